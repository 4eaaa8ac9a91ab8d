// The model registry: the public OpenAI-style list and the admin registry with aliases.

import { http } from './http'
import type { MessageResponse, PageQuery, Paginated } from './types'

/** An entry of `GET /v1/models`. Prices in USD per million tokens. */
export interface ModelObject {
  id: string
  object: 'model'
  created: number
  owned_by: string
  display_name: string | null
  context_length: number | null
  max_completion_tokens: number | null
  input_price_per_mtok: number
  output_price_per_mtok: number
  capabilities: { vision: boolean; tools: boolean; streaming: boolean }
}

/** A registry entry as admins see it (`AdminModel` in the OpenAPI document). */
export interface AdminModel {
  id: string
  provider: string
  upstream_name: string
  display_name: string | null
  context_length: number | null
  max_completion_tokens: number | null
  input_price_per_mtok: number
  output_price_per_mtok: number
  supports_vision: boolean
  supports_tools: boolean
  supports_streaming: boolean
  enabled: boolean
  /** `catalog`, `config`, `openrouter` or `manual`. */
  source: string
  provider_configured: boolean
}

export interface AdminModelQuery extends PageQuery {
  provider?: string
  enabled?: boolean
  search?: string
}

export interface NewModel {
  id: string
  upstream_name?: string | null
  display_name?: string | null
  context_length?: number | null
  max_completion_tokens?: number | null
  input_price_per_mtok?: number
  output_price_per_mtok?: number
  supports_vision?: boolean
  supports_tools?: boolean
  enabled?: boolean
}

export interface Alias {
  alias: string
  targets: string[]
}

export interface SyncResult {
  total: number
  inserted: number
  updated: number
}

const enc = encodeURIComponent

export const modelsApi = {
  available: () => http.get<{ object: 'list'; data: ModelObject[] }>('/v1/models'),
  list: (q: AdminModelQuery = {}) => http.get<Paginated<AdminModel>>('/v1/admin/models', q),
  create: (body: NewModel) => http.post<AdminModel>('/v1/admin/models', body),
  // Model ids contain '/': the route takes the rest of the path, so each segment is escaped alone.
  setEnabled: (id: string, enabled: boolean) =>
    http.patch<AdminModel>(`/v1/admin/models/${id.split('/').map(enc).join('/')}`, { enabled }),
  bulk: (ids: string[], enabled: boolean) =>
    http.post<{ updated: number }>('/v1/admin/models/bulk', { ids, enabled }),
  sync: () => http.post<SyncResult>('/v1/admin/models/sync', undefined, { timeout: 120_000 }),
  aliases: () => http.get<Alias[]>('/v1/admin/aliases'),
  putAlias: (alias: string, targets: string[]) =>
    http.put<Alias>(`/v1/admin/aliases/${enc(alias)}`, { targets }),
  deleteAlias: (alias: string) => http.delete<MessageResponse>(`/v1/admin/aliases/${enc(alias)}`),
}
