import { AxiosError, AxiosHeaders, type AxiosAdapter } from 'axios'
import { afterEach, describe, expect, it } from 'vitest'

import {
  blankChannelForm,
  CHANNEL_NAME,
  channelPatch,
  channelsApi,
  channelToForm,
  formatModelMap,
  healthView,
  modelsOf,
  newChannelBody,
  parseModelMap,
  type Channel,
  type ChannelHealth,
} from '../channels'
import { client } from '../http'

const health = (over: Partial<ChannelHealth> = {}): ChannelHealth => ({
  state: 'closed',
  open_for_ms: null,
  window_requests: 0,
  window_failures: 0,
  successes: 0,
  failures: 0,
  opened: 0,
  recent_errors: [],
  ...over,
})

const channel = (over: Partial<Channel> = {}): Channel => ({
  id: '5d0f3c1e-2b8a-4f5e-9a51-0c7d1e2f3a4b',
  provider: 'openai',
  name: 'backup',
  base_url: 'https://api.openai.com/v1',
  api_key_hint: 'sk-…a1b2',
  weight: 1,
  priority: 0,
  models: null,
  model_map: {},
  api_version: null,
  ca_file: null,
  enabled: true,
  disabled_reason: null,
  source: 'database',
  health: health(),
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
  ...over,
})

interface Seen {
  method: string
  url: string
  body: unknown
}

/** An axios adapter that records the request and answers `answer(body)`. */
function server(seen: Seen[], answer: (body: unknown) => [number, unknown]): AxiosAdapter {
  return async (config) => {
    const body = typeof config.data === 'string' ? JSON.parse(config.data) : config.data
    seen.push({ method: (config.method ?? 'get').toUpperCase(), url: config.url ?? '', body })
    const [status, data] = answer(body)
    const response = { data, status, statusText: '', headers: new AxiosHeaders(), config }
    if (status < 300) return response
    throw new AxiosError('failed', 'ERR_BAD_RESPONSE', config, {}, response)
  }
}

const original = client.defaults.adapter
afterEach(() => {
  client.defaults.adapter = original
})

describe('the health of a channel', () => {
  it('is green when its circuit is closed', () => {
    expect(healthView(channel())).toEqual({ state: 'closed', color: 'green', seconds: null, reason: null })
  })

  it('is red while open, counting down the cooldown in whole seconds', () => {
    const c = channel({ health: health({ state: 'open', open_for_ms: 4200 }) })
    expect(healthView(c)).toMatchObject({ state: 'open', color: 'red', seconds: 5 })
    expect(healthView(c, 1500)).toMatchObject({ state: 'open', seconds: 3 })
    expect(healthView(c, 4100)).toMatchObject({ state: 'open', seconds: 1 })
  })

  it('is half-open once the cooldown it was read with has run out, as the server will say', () => {
    const c = channel({ health: health({ state: 'open', open_for_ms: 4200 }) })
    expect(healthView(c, 4200)).toEqual({ state: 'half_open', color: 'orange', seconds: null, reason: null })
    expect(healthView(channel({ health: health({ state: 'half_open' }) }))).toMatchObject({ state: 'half_open', color: 'orange' })
  })

  it('is open without a countdown when the server gives none', () => {
    expect(healthView(channel({ health: health({ state: 'open' }) }), 60_000)).toMatchObject({ state: 'open', seconds: null })
  })

  it('is grey when disabled, with the reason the provider refused its key', () => {
    const c = channel({
      enabled: false,
      disabled_reason: 'the provider refused the credential (401)',
      health: health({ state: 'disabled' }),
    })
    expect(healthView(c)).toEqual({
      state: 'disabled',
      color: 'gray',
      seconds: null,
      reason: 'the provider refused the credential (401)',
    })
  })

  it('is disabled when switched off, whatever its circuit says', () => {
    expect(healthView(channel({ enabled: false, health: health({ state: 'open', open_for_ms: 3000 }) }))).toEqual({
      state: 'disabled',
      color: 'gray',
      seconds: null,
      reason: null,
    })
    const unusable = channel({ disabled_reason: 'cannot be used: no GAIA_SECRET_KEY', health: health({ state: 'disabled' }) })
    expect(healthView(unusable).reason).toBe('cannot be used: no GAIA_SECRET_KEY')
  })

  it('shows a state it does not know as the server named it, in grey', () => {
    expect(healthView(channel({ health: health({ state: 'draining' }) }))).toEqual({
      state: 'draining',
      color: 'gray',
      seconds: null,
      reason: null,
    })
  })

  it('reads a missing cooldown or model list as none', () => {
    const { open_for_ms: _gone, ...rest } = health({ state: 'open' })
    expect(healthView(channel({ health: rest })).seconds).toBeNull()
    const { models: _none, ...all } = channel()
    expect(modelsOf(all as Channel)).toBeNull()
    expect(channelPatch(channelToForm(all), all)).toEqual({})
  })
})

describe('the model map editor', () => {
  it('reads one “upstream = sent” per line, skipping blank lines and comments', () => {
    const text = '  gpt-4o = my-gpt4o-deployment \n\n# azure names\nllama3:8b=llama3-8b-q4\nvendor/model = other/name'
    expect(parseModelMap(text)).toEqual({
      map: { 'gpt-4o': 'my-gpt4o-deployment', 'llama3:8b': 'llama3-8b-q4', 'vendor/model': 'other/name' },
      bad: [],
    })
    expect(parseModelMap('')).toEqual({ map: {}, bad: [] })
  })

  it('names the lines it cannot read: no “=”, an empty side, two “=”, a name mapped twice', () => {
    const { map, bad } = parseModelMap('gpt-4o\n= x\ny =\na = b = c\nok = fine\r\nok = again')
    expect(bad).toEqual([1, 2, 3, 4, 6])
    expect(map).toEqual({ ok: 'fine' })
  })

  it('writes a map back as the text it reads', () => {
    const map = { 'gpt-4o': 'deployment-a', 'gpt-4o-mini': 'deployment-b' }
    expect(formatModelMap(map)).toBe('gpt-4o = deployment-a\ngpt-4o-mini = deployment-b')
    expect(parseModelMap(formatModelMap(map)).map).toEqual(map)
    expect(formatModelMap({})).toBe('')
  })
})

describe('the create body', () => {
  it('leaves out what the form left empty, so the server’s defaults apply', () => {
    const f = { ...blankChannelForm(), provider: ' openai ', name: ' second-key ', weight: undefined, priority: undefined }
    expect(newChannelBody(f)).toEqual({ provider: 'openai', name: 'second-key', enabled: true })
  })

  it('sends every field that was filled in', () => {
    const f = {
      ...blankChannelForm(),
      provider: 'azure',
      name: 'eu-west',
      base_url: ' https://eu.example.com/openai ',
      api_key: ' secret-key ',
      weight: 5,
      priority: -3,
      models: ['gpt-4o', ' ', 'gpt-4o'],
      model_map: 'gpt-4o = eu-gpt4o',
      api_version: '2024-10-21',
      ca_file: '/etc/ca.pem',
      enabled: false,
    }
    expect(newChannelBody(f)).toEqual({
      provider: 'azure',
      name: 'eu-west',
      base_url: 'https://eu.example.com/openai',
      api_key: 'secret-key',
      weight: 5,
      priority: -3,
      models: ['gpt-4o'],
      model_map: { 'gpt-4o': 'eu-gpt4o' },
      api_version: '2024-10-21',
      ca_file: '/etc/ca.pem',
      enabled: false,
    })
  })
})

describe('the edit body', () => {
  it('is empty when nothing changed: the stored key is kept by leaving the field empty', () => {
    const c = channel({ models: ['gpt-4o'], model_map: { 'gpt-4o': 'dep' }, api_version: '2024-10-21' })
    const f = channelToForm(c)
    expect(f.api_key).toBe('')
    expect(channelPatch(f, c)).toEqual({})
  })

  it('replaces the key with one typed in, and removes it with “remove key” (null)', () => {
    const c = channel()
    expect(channelPatch({ ...channelToForm(c), api_key: ' sk-new ' }, c)).toEqual({ api_key: 'sk-new' })
    expect(channelPatch({ ...channelToForm(c), remove_key: true }, c)).toEqual({ api_key: null })
    // Removing wins over a key typed before the box was ticked.
    expect(channelPatch({ ...channelToForm(c), api_key: 'sk-typed', remove_key: true }, c)).toEqual({ api_key: null })
  })

  it('sends only the fields that differ', () => {
    const c = channel({ models: ['gpt-4o'], model_map: { 'gpt-4o': 'dep' }, ca_file: '/etc/ca.pem' })
    const f = {
      ...channelToForm(c),
      name: 'renamed',
      weight: 10,
      priority: 0,
      models: [],
      model_map: 'gpt-4o = dep\ngpt-4o-mini = dep-mini',
      ca_file: '',
      enabled: false,
    }
    expect(channelPatch(f, c)).toEqual({
      name: 'renamed',
      weight: 10,
      models: null,
      model_map: { 'gpt-4o': 'dep', 'gpt-4o-mini': 'dep-mini' },
      ca_file: null,
      enabled: false,
    })
  })

  it('clears the model map and sets a model list and an API version', () => {
    const c = channel({ model_map: { a: 'b' } })
    const f = { ...channelToForm(c), model_map: '', models: ['gpt-4o-mini'], api_version: ' 2025-01-01 ' }
    expect(channelPatch(f, c)).toEqual({ model_map: {}, models: ['gpt-4o-mini'], api_version: '2025-01-01' })
  })
})

describe('channel names', () => {
  it('are 1 to 64 letters, digits, - _ .', () => {
    expect(CHANNEL_NAME.test('e2e-broken')).toBe(true)
    expect(CHANNEL_NAME.test('eu_west.2')).toBe(true)
    expect(CHANNEL_NAME.test('')).toBe(false)
    expect(CHANNEL_NAME.test('has space')).toBe(false)
    expect(CHANNEL_NAME.test('x'.repeat(65))).toBe(false)
  })
})

describe('channelsApi', () => {
  it('escapes a configured channel’s id as one path segment', async () => {
    const seen: Seen[] = []
    const c = channel({ id: 'config:openai:default', source: 'config' })
    client.defaults.adapter = server(seen, () => [200, c])
    expect(await channelsApi.get(c.id)).toEqual(c)
    await channelsApi.test(c.id)
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['GET', '/v1/admin/channels/config%3Aopenai%3Adefault', undefined],
      ['POST', '/v1/admin/channels/config%3Aopenai%3Adefault/test', {}],
    ])
  })

  it('tests with the model asked for, and passes on a failed upstream call as a result', async () => {
    const seen: Seen[] = []
    const failed = { ok: false, model: 'gpt-4o-mini', latency_ms: 3, status: null, error: { code: 'upstream_unavailable', message: 'connection refused' } }
    client.defaults.adapter = server(seen, () => [200, failed])
    expect(await channelsApi.test('c1', ' gpt-4o-mini ')).toEqual(failed)
    expect(seen[0]?.body).toEqual({ model: 'gpt-4o-mini' })
  })

  it('switches a channel with a PATCH of `enabled` alone, and deletes it', async () => {
    const seen: Seen[] = []
    client.defaults.adapter = server(seen, (body) => (body === undefined ? [204, ''] : [200, channel({ enabled: false })]))
    await channelsApi.setEnabled('c1', false)
    await channelsApi.remove('c1')
    expect(seen).toEqual([
      { method: 'PATCH', url: '/v1/admin/channels/c1', body: { enabled: false } },
      { method: 'DELETE', url: '/v1/admin/channels/c1', body: undefined },
    ])
  })

  it('passes on a refusal with the field it concerns', async () => {
    client.defaults.adapter = server([], () => [
      422,
      { error: { message: 'storing an upstream credential needs GAIA_SECRET_KEY', type: 'invalid_request_error', code: 'secret_key_required', param: 'api_key' } },
    ])
    await expect(channelsApi.create({ provider: 'openai', name: 'x', api_key: 'sk-x' })).rejects.toMatchObject({
      status: 422,
      code: 'secret_key_required',
      param: 'api_key',
    })
  })

  it('says a configured channel is read-only', async () => {
    client.defaults.adapter = server([], () => [
      409,
      { error: { message: 'this channel comes from the environment or GAIA_CONFIG; change it there', type: 'invalid_request_error', code: 'channel_read_only', param: null } },
    ])
    await expect(channelsApi.setEnabled('config:openai:default', false)).rejects.toMatchObject({
      status: 409,
      code: 'channel_read_only',
    })
  })
})
