// Statistics (issue #5): aggregated usage and the request log, both exportable as CSV (`?format=csv`).

import { http } from './http'
import type { Paginated, QueryOf, Schemas } from './types'

export type GroupBy = 'day' | 'week' | 'month' | 'model' | 'provider'

export interface StatsQuery {
  /** `YYYY-MM-DD`, UTC, inclusive. */
  start_date?: string
  end_date?: string
  group_by?: GroupBy
}

/**
 * The figures every group carries. Cost in USD; `unpriced_requests` are not in `cost`. `cached_tokens` and
 * `cache_creation_tokens` are parts of `prompt_tokens`, `reasoning_tokens` a part of `completion_tokens`.
 */
export type UsageFigures = Schemas['GroupTotals']
export type DateGroup = Schemas['DateGroup']
export type ModelGroup = Schemas['ModelGroup']
export type ProviderGroup = Schemas['ProviderGroup']
/**
 * Totals over the period, the token parts (`total_cached_tokens`, `total_cache_creation_tokens`,
 * `total_reasoning_tokens`) as in a group; `total_keys` / `active_keys` in global statistics only.
 */
export type StatsSummary = Schemas['StatsSummary']
/** A report; `group_by` says how `by_date` is bucketed (`day`, `week` labelled by its Monday, `month`). */
export type StatsResponse = Schemas['StatsResponse']

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

/**
 * One recorded inference request. Cost in USD. `api`: the inbound API it came in through (see
 * `INBOUND_APIS`). `cached_tokens` / `cache_creation_tokens` are the parts of `prompt_tokens` read from and
 * written to a prompt cache, `reasoning_tokens` the part of `completion_tokens` spent on reasoning.
 * `attempts`: upstream calls made (retries and fallbacks included), 0 when refused before any, `null` on
 * records from before attempts were recorded.
 */
export type RequestRecord = Schemas['RequestLogEntry']

/** The inbound APIs a request can come in through, as the request log names them (its `api`). */
export const INBOUND_APIS = ['chat.completions', 'messages', 'responses', 'embeddings'] as const
export type InboundApi = (typeof INBOUND_APIS)[number]

/**
 * A page of the request log: `key_id`, `organization_id`, `model`, `provider`, `api` (one of
 * `INBOUND_APIS`; the server refuses any other name) and `status` (`success`: < 400, `error`: >= 400)
 * filter it; `start_date` / `end_date` are inclusive bounds, a date (`2026-11-27`, its whole day) or an
 * RFC 3339 date-time, UTC.
 */
export type RequestQuery = QueryOf<'request_log'> & { status?: 'success' | 'error'; api?: InboundApi }

export const statsApi = {
  get: (scope: StatsScope, q: StatsQuery) => http.get<StatsResponse>(statsUrl(scope), q),
  exportCsv: (scope: StatsScope, q: StatsQuery) =>
    http.download(statsUrl(scope), { ...q, format: 'csv' }),
  requests: (q: RequestQuery) => http.get<Paginated<RequestRecord>>('/v1/requests', q),
  exportRequestsCsv: (q: RequestQuery) =>
    http.download('/v1/requests', { ...q, page: undefined, limit: undefined, format: 'csv' }),
}
