// API keys: `/v1/api-keys` (tenancy issue #4). The secret `key` is only in the create response.

import { http } from './http'
import type { KeyStatus, MessageResponse, Paginated, QueryOf, Schemas } from './types'

/** An API key; `key` (the secret) is only in the create response, `null` on every later read. */
export type ApiKey = Schemas['ApiKeyResponse']

/** A key as lists show it: never the secret. */
export type ApiKeyListed = Omit<ApiKey, 'key'>

/** A page of keys: `organization_id`, `status` (one of the UI's) and `search` filter it. */
export type ApiKeyQuery = QueryOf<'list_api_keys'> & { status?: KeyStatus }

export type ApiKeyCreate = Schemas['CreateApiKeyBody']

/** Changes to a key: omitted fields stay, `null` clears. */
export type ApiKeyUpdate = Schemas['UpdateApiKeyBody']

/** How a key is named on screen: its name, else its non-secret hint. */
export function keyLabel(k: Pick<ApiKey, 'name' | 'key_hint'>): string {
  return k.name || k.key_hint
}

export const apiKeysApi = {
  list: async (q: ApiKeyQuery = {}): Promise<Paginated<ApiKeyListed>> => {
    const page = await http.get<Paginated<ApiKey>>('/v1/api-keys', q)
    return { ...page, data: page.data.map(({ key: _secret, ...rest }) => rest) }
  },
  get: (id: string) => http.get<ApiKey>(`/v1/api-keys/${encodeURIComponent(id)}`),
  create: (body: ApiKeyCreate) => http.post<ApiKey>('/v1/api-keys', body),
  update: (id: string, body: ApiKeyUpdate) =>
    http.patch<ApiKey>(`/v1/api-keys/${encodeURIComponent(id)}`, body),
  revoke: (id: string) => http.delete<MessageResponse>(`/v1/api-keys/${encodeURIComponent(id)}`),
}

/** Every field the key form edits, as it would send them (it always sends a list of permissions). */
export type ApiKeyFields = Required<Omit<ApiKeyUpdate, 'status' | 'permissions'>> & { permissions: string[] }

const LIMIT_KEYS = ['monthly_requests_limit', 'monthly_tokens_limit', 'monthly_cost_limit', 'rate_limit_rpm'] as const

function sameTime(a: string | null, b: string | null): boolean {
  return a === null || b === null ? a === b : Date.parse(a) === Date.parse(b)
}

/**
 * The PATCH body that turns `current` into `wanted`: only the fields that differ. The server checks each
 * field a change sets against the caller's ceiling, so a field sent unchanged could be refused (a write
 * key renaming a sibling with looser limits than its own must not re-send those limits).
 */
export function keyChanges(current: ApiKeyListed, wanted: ApiKeyFields): ApiKeyUpdate {
  const body: ApiKeyUpdate = {}
  if (wanted.name !== (current.name ?? null)) body.name = wanted.name
  if (wanted.description !== (current.description ?? null)) body.description = wanted.description
  const perms = (p: readonly string[]) => [...p].sort().join(',')
  if (perms(wanted.permissions) !== perms(current.permissions)) body.permissions = wanted.permissions
  if (!sameTime(wanted.expires_at, current.expires_at ?? null)) body.expires_at = wanted.expires_at
  for (const f of LIMIT_KEYS) {
    if (wanted[f] !== (current[f] ?? null)) body[f] = wanted[f]
  }
  return body
}
