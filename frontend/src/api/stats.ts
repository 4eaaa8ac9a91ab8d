// Statistics (issue #5): aggregated usage and the request log, both exportable as CSV (`?format=csv`).

import { http } from './http'
import type { PageQuery, Paginated } from './types'

export type GroupBy = 'day' | 'week' | 'month' | 'model' | 'provider'

export interface StatsQuery {
  /** `YYYY-MM-DD`, UTC, inclusive. */
  start_date?: string
  end_date?: string
  group_by?: GroupBy
}

/** The figures every group carries. Cost in USD. */
export interface UsageFigures {
  requests: number
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  cost: number
  errors?: number
  avg_latency_ms?: number | null
  /** Requests served by a model without a known price: their cost is not in `cost`. */
  unpriced_requests: number
}

export interface DateGroup extends UsageFigures {
  date: string
}
export interface ModelGroup extends UsageFigures {
  model: string
}
export interface ProviderGroup extends UsageFigures {
  provider: string
}
/** Optional breakdowns a server may add to the global statistics (used for the top lists when present). */
export interface KeyGroup extends UsageFigures {
  key_id: string
  key_name?: string | null
  organization_id?: string | null
}
export interface OrganizationGroup extends UsageFigures {
  organization_id: string
  organization_name?: string | null
}

export interface StatsSummary {
  total_requests: number
  total_prompt_tokens: number
  total_completion_tokens: number
  total_tokens: number
  total_cost: number
  /** Requests answered with a status >= 400. */
  errors?: number
  avg_latency_ms?: number | null
  /** Requests served by a model without a known price: their cost is not in `total_cost`. */
  unpriced_requests: number
  /** Global statistics only. */
  total_keys?: number
  active_keys?: number
}

export interface StatsResponse {
  key_id?: string
  organization_id?: string
  period: { start: string; end: string }
  /** How `by_date` is bucketed: `day`, `week` (labelled by its Monday) or `month` (`2026-11`). */
  group_by?: string
  summary: StatsSummary
  by_date?: DateGroup[]
  by_model?: ModelGroup[]
  by_provider?: ProviderGroup[]
  by_key?: KeyGroup[]
  by_organization?: OrganizationGroup[]
}

/** Whose statistics: everything (admin), one organization, or one key. */
export type StatsScope =
  | { kind: 'global' }
  | { kind: 'organization'; id: string }
  | { kind: 'key'; id: string }

export function statsUrl(scope: StatsScope): string {
  switch (scope.kind) {
    case 'global':
      return '/v1/stats'
    case 'organization':
      return `/v1/organizations/${encodeURIComponent(scope.id)}/stats`
    case 'key':
      return `/v1/api-keys/${encodeURIComponent(scope.id)}/stats`
  }
}

/** One recorded inference request (`RequestLogEntry`). Cost in USD. */
export interface RequestRecord {
  id: number | string
  /** The request's `x-request-id`. */
  request_id: string
  created_at: string
  api_key_id: string | null
  organization_id: string | null
  /** The model as requested (may be an alias) and as served. */
  model: string
  model_served: string | null
  provider: string | null
  stream: boolean
  status_code: number
  error_code: string | null
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  total_tokens: number
  cost: number
  estimated: boolean
  upstream_latency_ms: number | null
  ttft_ms: number | null
  total_latency_ms: number
  /**
   * Upstream calls made (retries and fallbacks included); 0 when refused before any, `null` on records
   * written before attempts were recorded. `provider` / `model_served` name the target that answered (or
   * the last one tried).
   */
  attempts: number | null
  /** Served by a model without a known price: `cost` (0) is not its real cost. */
  unpriced: boolean
}

export interface RequestQuery extends PageQuery {
  key_id?: string
  organization_id?: string
  model?: string
  provider?: string
  /** `success` (< 400) or `error` (>= 400). */
  status?: 'success' | 'error'
  /** Inclusive bounds: a date (`2026-11-27`, its whole day) or an RFC 3339 date-time, UTC. */
  start_date?: string
  end_date?: string
}

export const statsApi = {
  get: (scope: StatsScope, q: StatsQuery) => http.get<StatsResponse>(statsUrl(scope), q),
  exportCsv: (scope: StatsScope, q: StatsQuery) =>
    http.download(statsUrl(scope), { ...q, format: 'csv' }),
  requests: (q: RequestQuery) => http.get<Paginated<RequestRecord>>('/v1/requests', q),
  exportRequestsCsv: (q: RequestQuery) =>
    http.download('/v1/requests', { ...q, page: undefined, limit: undefined, format: 'csv' }),
}
