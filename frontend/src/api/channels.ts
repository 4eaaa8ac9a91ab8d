// Channels: the credentials and endpoints a provider is reached through (`/v1/admin/channels`, admins
// only). Stored channels are managed here; those of the configuration file or the environment
// (`source: "config"`, ids like `config:openai:default`) are listed read-only.

import { http } from './http'
import type { Schemas } from './types'

/**
 * A channel with its health. The document types `source` (`database` or `config`) and `health.state` as
 * plain strings, naming the values in their descriptions; `CircuitState` is what the UI compares with.
 */
export type Channel = Schemas['Channel']
export type ChannelHealth = Schemas['ChannelHealth']
export type RecentError = Schemas['ChannelError']
/** `POST /v1/admin/channels`: left-out fields take the server's defaults (the provider's URL, weight 1…). */
export type NewChannel = Schemas['NewChannel']
/** `PATCH /v1/admin/channels/{id}`: omitted fields stay; `api_key: null` removes the stored key. */
export type ChannelPatch = Schemas['ChannelPatch']
/** The outcome of one test request through a channel (a failed upstream call is still a 200). */
export type ChannelTest = Schemas['ChannelTest']

/** A channel's circuit breaker: `closed` = healthy, `open` = failing (no requests until its cooldown ends). */
export type CircuitState = 'closed' | 'open' | 'half_open' | 'disabled'
export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open', 'disabled']

export const isCircuitState = (s: string): s is CircuitState => (CIRCUIT_STATES as readonly string[]).includes(s)

/** Providers the create form suggests besides those the list already shows. */
export const KNOWN_PROVIDERS = ['openai', 'anthropic', 'google', 'openrouter', 'azure']

/** A channel name as the server takes it: 1–64 letters, digits, `-`, `_`, `.`; not `default`. */
export const CHANNEL_NAME = /^[A-Za-z0-9._-]{1,64}$/

export const isReadOnly = (c: Pick<Channel, 'source'>) => c.source === 'config'

// ---------------------------------------------------------------- health

/** What the health column shows of a channel. */
export interface HealthView {
  /** One of `CircuitState`, or a state this UI does not know yet, as the server named it. */
  state: string
  color: 'green' | 'red' | 'orange' | 'gray'
  /** Open: whole seconds of cooldown left (at least 1), when the server said. */
  seconds: number | null
  /** Disabled: why, when known (the provider refused its key, an operator, an unusable endpoint). */
  reason: string | null
}

const COLORS: Record<CircuitState, HealthView['color']> = {
  closed: 'green',
  open: 'red',
  half_open: 'orange',
  disabled: 'gray',
}

/**
 * The health of a channel as the table shows it, `elapsedMs` after it was read: a channel switched off is
 * disabled whatever its circuit says; an open circuit whose cooldown has run out is half-open (its next
 * request is the probe), as the server will say on the next read.
 */
export function healthView(
  c: Pick<Channel, 'enabled' | 'disabled_reason' | 'health'>,
  elapsedMs = 0,
): HealthView {
  let state = c.enabled ? c.health.state : 'disabled'
  let seconds: number | null = null
  const openFor = c.health.open_for_ms ?? null
  if (state === 'open' && openFor !== null) {
    const left = openFor - Math.max(0, elapsedMs)
    if (left > 0) seconds = Math.max(1, Math.ceil(left / 1000))
    else state = 'half_open'
  }
  const color = isCircuitState(state) ? COLORS[state] : 'gray'
  const reason = state === 'disabled' ? (c.disabled_reason ?? null) : null
  return { state, color, seconds, reason }
}

/** The models a channel serves; `null`: every model of its provider. */
export const modelsOf = (c: Pick<Channel, 'models'>): string[] | null => c.models ?? null

// ---------------------------------------------------------------- the form

/** The channel form's fields; `model_map` is edited as text, one `upstream = sent` per line. */
export interface ChannelForm {
  provider: string
  name: string
  base_url: string
  /** Write-only: empty keeps the stored key (or stores none on create). */
  api_key: string
  /** Edit only: remove the stored key (sends `api_key: null`). */
  remove_key: boolean
  weight: number | undefined
  priority: number | undefined
  /** Empty: every model of the provider. */
  models: string[]
  model_map: string
  api_version: string
  ca_file: string
  enabled: boolean
}

export function blankChannelForm(): ChannelForm {
  return {
    provider: '',
    name: '',
    base_url: '',
    api_key: '',
    remove_key: false,
    weight: 1,
    priority: 0,
    models: [],
    model_map: '',
    api_version: '',
    ca_file: '',
    enabled: true,
  }
}

/** The form filled in with a channel (its key is never known: the field starts empty). */
export function channelToForm(c: Channel): ChannelForm {
  return {
    provider: c.provider,
    name: c.name,
    base_url: c.base_url,
    api_key: '',
    remove_key: false,
    weight: c.weight,
    priority: c.priority,
    models: [...(c.models ?? [])],
    model_map: formatModelMap(c.model_map),
    api_version: c.api_version ?? '',
    ca_file: c.ca_file ?? '',
    enabled: c.enabled,
  }
}

export interface ParsedModelMap {
  map: Record<string, string>
  /** 1-based numbers of the lines that are not `name = name`, or repeat a name already mapped. */
  bad: number[]
}

/**
 * The model map editor's text: one `upstream = sent` per line (model names never hold `=`, though they
 * may hold `:` and `/`). Blank lines and lines starting with `#` are skipped.
 */
export function parseModelMap(text: string): ParsedModelMap {
  const map: Record<string, string> = {}
  const bad: number[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const parts = line.split('=')
    const from = parts[0]?.trim() ?? ''
    const to = parts[1]?.trim() ?? ''
    if (parts.length !== 2 || !from || !to || Object.hasOwn(map, from)) {
      bad.push(i + 1)
      return
    }
    map[from] = to
  })
  return { map, bad }
}

export function formatModelMap(map: Record<string, string>): string {
  return Object.entries(map)
    .map(([from, to]) => `${from} = ${to}`)
    .join('\n')
}

/** The models field as the API takes it: trimmed, without repeats; none = every model (`null`). */
function modelList(models: readonly string[]): string[] | null {
  const out = [...new Set(models.map((m) => m.trim()).filter(Boolean))]
  return out.length > 0 ? out : null
}

const orNull = (s: string) => s.trim() || null

/** The create body: empty optional fields are left out, so the server's defaults apply. */
export function newChannelBody(f: ChannelForm): NewChannel {
  const body: NewChannel = { provider: f.provider.trim(), name: f.name.trim(), enabled: f.enabled }
  const baseUrl = f.base_url.trim()
  if (baseUrl) body.base_url = baseUrl
  const key = f.api_key.trim()
  if (key) body.api_key = key
  if (typeof f.weight === 'number') body.weight = f.weight
  if (typeof f.priority === 'number') body.priority = f.priority
  const models = modelList(f.models)
  if (models) body.models = models
  const map = parseModelMap(f.model_map).map
  if (Object.keys(map).length > 0) body.model_map = map
  const apiVersion = orNull(f.api_version)
  if (apiVersion) body.api_version = apiVersion
  const caFile = orNull(f.ca_file)
  if (caFile) body.ca_file = caFile
  return body
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a)
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k])
}

function sameList(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b
  return a.length === b.length && a.every((m, i) => m === b[i])
}

/**
 * The PATCH body that turns `current` into the form: only the fields that differ. The key field is
 * write-only: empty keeps the stored key (left out), "remove key" sends `null`, anything typed replaces it.
 */
export function channelPatch(f: ChannelForm, current: Channel): ChannelPatch {
  const body: ChannelPatch = {}
  const name = f.name.trim()
  if (name !== current.name) body.name = name
  const baseUrl = f.base_url.trim()
  if (baseUrl && baseUrl !== current.base_url) body.base_url = baseUrl
  const key = f.api_key.trim()
  if (f.remove_key) body.api_key = null
  else if (key) body.api_key = key
  if (typeof f.weight === 'number' && f.weight !== current.weight) body.weight = f.weight
  if (typeof f.priority === 'number' && f.priority !== current.priority) body.priority = f.priority
  const models = modelList(f.models)
  if (!sameList(models, modelsOf(current))) body.models = models
  const map = parseModelMap(f.model_map).map
  if (!sameMap(map, current.model_map)) body.model_map = map
  const apiVersion = orNull(f.api_version)
  if (apiVersion !== (current.api_version ?? null)) body.api_version = apiVersion
  const caFile = orNull(f.ca_file)
  if (caFile !== (current.ca_file ?? null)) body.ca_file = caFile
  if (f.enabled !== current.enabled) body.enabled = f.enabled
  return body
}

// ---------------------------------------------------------------- the API

// Configured channels have ids like `config:openai:default`: one path segment, escaped whole.
const channelPath = (id: string) => `/v1/admin/channels/${encodeURIComponent(id)}`

/** A test waits for the upstream (the server gives up after 60 s). */
const TEST_TIMEOUT_MS = 75_000

export const channelsApi = {
  list: () => http.get<Channel[]>('/v1/admin/channels'),
  get: (id: string) => http.get<Channel>(channelPath(id)),
  create: (body: NewChannel) => http.post<Channel>('/v1/admin/channels', body),
  update: (id: string, body: ChannelPatch) => http.patch<Channel>(channelPath(id), body),
  setEnabled: (id: string, enabled: boolean) => http.patch<Channel>(channelPath(id), { enabled }),
  remove: (id: string) => http.delete<void>(channelPath(id)),
  /** One small request through the channel; empty `model`: the server picks one the channel serves. */
  test: (id: string, model?: string) =>
    http.post<ChannelTest>(`${channelPath(id)}/test`, model?.trim() ? { model: model.trim() } : {}, {
      timeout: TEST_TIMEOUT_MS,
    }),
}
