// Shapes shared by every API area. The server's own types come from its OpenAPI document
// (docs/api/openapi.json → schema.d.ts, `npm run gen:api`; `npm run check:api` fails when they drift), so
// what is declared here is only what the document has no name for.

import type { components, operations } from './schema'

/** Every schema of the OpenAPI document, by name: `Schemas['OrganizationResponse']`. */
export type Schemas = components['schemas']

/** `{"error": {...}}`, the OpenAI error envelope every GaiaRouter error uses. */
export type ErrorEnvelope = Schemas['ErrorBody']

export type Pagination = Schemas['Pagination']

/**
 * A page of a list endpoint: `{"data": [...], "pagination": {...}}` (the document spells this shape out
 * inline for each list).
 */
export interface Paginated<T> {
  data: T[]
  pagination: Pagination
}

type QueryParams<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>

/**
 * The query of an operation of the document, by its operationId (`QueryOf<'list_api_keys'>`: page, limit
 * and its filters), as the UI sends it: an unset filter is left out, never sent as `null`.
 */
export type QueryOf<Op extends keyof operations> = {
  [K in keyof QueryParams<Op>]?: NonNullable<QueryParams<Op>[K]>
}

/**
 * What the UI grants and checks. The document types permissions, statuses and roles as plain strings
 * (naming the values in their descriptions); these are the values the UI itself sends and compares with.
 */
export type Permission = 'read' | 'write' | 'admin'
export type Status = 'active' | 'inactive'
export type KeyStatus = 'active' | 'inactive' | 'revoked' | 'expired'

/**
 * Monthly and per-minute limits; `null` means unlimited. Cost in USD. The document marks them optional
 * (the server sends `null`), so a missing one reads as unlimited too.
 */
export type Limits = Pick<
  Schemas['OrganizationResponse'],
  'monthly_requests_limit' | 'monthly_tokens_limit' | 'monthly_cost_limit' | 'rate_limit_rpm'
>

/** Current calendar-month (UTC) usage shown next to the limits. Cost in USD. */
export type MonthUsage = Schemas['MonthUsage']

/** `{"message": "..."}`, what deletes answer. */
export type MessageResponse = Schemas['Message']
