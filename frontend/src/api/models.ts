// The model registry: the public OpenAI-style list and the admin registry with aliases.

import { http } from './http'
import type { MessageResponse, Paginated, QueryOf, Schemas } from './types'

/**
 * An entry of `GET /v1/models`. Prices in USD per million tokens; they are only real when `priced` is true
 * (an unpriced model reads 0 but its cost is unknown, see docs/api/models.md "Cost").
 */
export type ModelObject = Schemas['ModelObject']
export type ModelList = Schemas['ModelList']

/** A registry entry as admins see it; `priced: false` = unpriced: its prices read 0 but are not real. */
export type AdminModel = Schemas['AdminModel']

/** A page of the registry: `provider`, `enabled` and `search` filter it. */
export type AdminModelQuery = QueryOf<'list_admin_models'>

/** A model registered by hand. Leave both prices out to register it unpriced; either (0 allowed) prices it. */
export type NewModel = Schemas['NewModel']

/** `PATCH /v1/admin/models/{id}`: any of these; giving either price makes the model priced (none unprices it). */
export type ModelPatch = Schemas['ModelPatch']

/** What a model's prices mean: unknown, known to be 0 (free), or known. */
export type PriceState = 'unpriced' | 'free' | 'priced'

export function priceState(m: Pick<AdminModel, 'priced' | 'input_price_per_mtok' | 'output_price_per_mtok'>): PriceState {
  if (!m.priced) return 'unpriced'
  return m.input_price_per_mtok === 0 && m.output_price_per_mtok === 0 ? 'free' : 'priced'
}

export type PriceInput = number | null | undefined
/** The two price fields of a model (USD per million tokens). */
export type PriceField = 'input_price_per_mtok' | 'output_price_per_mtok'
/**
 * The two cache prices of a model (USD per million prompt tokens read from / written to a prompt cache).
 * `null` = the provider's default ratio of the input price; `effective_prices` shows what applies.
 */
export type CachePriceField = 'cached_input_price_per_mtok' | 'cache_write_price_per_mtok'
/** Both cache prices as a form sends them: `null` for an empty field (the provider's default). */
export type CachePrices = { [K in CachePriceField]: number | null }

/**
 * The cache price fields of a form as the API takes them, on registration and on a PATCH alike: an empty
 * field is `null`, the provider's default ratio (a PATCH with `null` goes back to it).
 */
export function cachePrices(cachedInput: PriceInput, cacheWrite: PriceInput): CachePrices {
  const price = (v: PriceInput) => (typeof v === 'number' && Number.isFinite(v) ? v : null)
  return { cached_input_price_per_mtok: price(cachedInput), cache_write_price_per_mtok: price(cacheWrite) }
}
/** Both prices, as a price form sends them. */
export type PricePair = { [K in PriceField]-?: NonNullable<ModelPatch[K]> }
/** The prices given: a missing one is not sent. */
export type Prices = Partial<PricePair>

/**
 * The price fields of a form as the API takes them: an empty field is left out, so a form with both empty
 * registers an unpriced model, while any number (0 too) prices it (the server reads the missing one as 0).
 */
export function priceFields(input: PriceInput, output: PriceInput): Prices {
  const out: Prices = {}
  if (typeof input === 'number' && Number.isFinite(input)) out.input_price_per_mtok = input
  if (typeof output === 'number' && Number.isFinite(output)) out.output_price_per_mtok = output
  return out
}

/**
 * The prices a price form sends: an empty field is 0 once the other is given; `null` when both are empty
 * (a PATCH cannot make a model unpriced again, so there is nothing to send).
 */
export function patchPrices(input: PriceInput, output: PriceInput): PricePair | null {
  const p = priceFields(input, output)
  if (p.input_price_per_mtok === undefined && p.output_price_per_mtok === undefined) return null
  return { input_price_per_mtok: p.input_price_per_mtok ?? 0, output_price_per_mtok: p.output_price_per_mtok ?? 0 }
}

/** What a form's price fields will make of the model (both empty = unpriced). */
export function formPriceState(input: PriceInput, output: PriceInput): PriceState {
  const p = patchPrices(input, output)
  return p ? priceState({ priced: true, ...p }) : 'unpriced'
}

export type Alias = Schemas['Alias']
export type SyncResult = Schemas['SyncResult']
export type BulkResult = Schemas['BulkResult']

const enc = encodeURIComponent
// Model ids contain '/': the route takes the rest of the path, so each segment is escaped alone.
const modelPath = (id: string) => `/v1/admin/models/${id.split('/').map(enc).join('/')}`

export const modelsApi = {
  available: () => http.get<ModelList>('/v1/models'),
  list: (q: AdminModelQuery = {}) => http.get<Paginated<AdminModel>>('/v1/admin/models', q),
  create: (body: NewModel) => http.post<AdminModel>('/v1/admin/models', body),
  setEnabled: (id: string, enabled: boolean) => http.patch<AdminModel>(modelPath(id), { enabled }),
  /** Prices a model; 0 and 0 declare it free. Cache prices given as `null` go back to the provider's default. */
  setPrices: (id: string, prices: PricePair & Partial<CachePrices>) => http.patch<AdminModel>(modelPath(id), prices),
  bulk: (ids: string[], enabled: boolean) =>
    http.post<BulkResult>('/v1/admin/models/bulk', { ids, enabled }),
  sync: () => http.post<SyncResult>('/v1/admin/models/sync', undefined, { timeout: 120_000 }),
  aliases: () => http.get<Alias[]>('/v1/admin/aliases'),
  putAlias: (alias: string, targets: string[]) =>
    http.put<Alias>(`/v1/admin/aliases/${enc(alias)}`, { targets }),
  deleteAlias: (alias: string) => http.delete<MessageResponse>(`/v1/admin/aliases/${enc(alias)}`),
}
