// Shapes shared by every API area (see docs/api/README.md of the backend).

/** `{"error": {...}}`, the OpenAI error envelope every GaiaRouter error uses. */
export interface ErrorEnvelope {
  error: {
    message: string
    type?: string | null
    code?: string | null
    param?: string | null
  }
}

export interface Pagination {
  page: number
  limit: number
  total: number
  pages: number
}

/** A page of a list endpoint: `{"data": [...], "pagination": {...}}`. */
export interface Paginated<T> {
  data: T[]
  pagination: Pagination
}

export interface PageQuery {
  page?: number
  limit?: number
}

export type Permission = 'read' | 'write' | 'admin'
export type Status = 'active' | 'inactive'
export type KeyStatus = 'active' | 'inactive' | 'revoked' | 'expired'

/** Monthly and per-minute limits; `null` means unlimited. Cost in USD. */
export interface Limits {
  monthly_requests_limit: number | null
  monthly_tokens_limit: number | null
  monthly_cost_limit: number | null
  rate_limit_rpm: number | null
}

/** Current calendar-month (UTC) usage shown next to the limits. Cost in USD. */
export interface MonthUsage {
  month_requests: number
  month_tokens: number
  month_cost: number
}

/** `{"message": "..."}`, what deletes answer. */
export interface MessageResponse {
  message: string
}
