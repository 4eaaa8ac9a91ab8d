import { AxiosError, AxiosHeaders, type AxiosAdapter } from 'axios'
import { afterEach, describe, expect, it } from 'vitest'

import { client } from '../http'
import { cachePrices, formPriceState, modelsApi, patchPrices, priceFields, priceState, type AdminModel } from '../models'

const model = (over: Partial<AdminModel> = {}): AdminModel => ({
  id: 'openai/local-x',
  provider: 'openai',
  upstream_name: 'local-x',
  display_name: null,
  context_length: null,
  max_completion_tokens: null,
  input_price_per_mtok: 0,
  output_price_per_mtok: 0,
  cached_input_price_per_mtok: null,
  cache_write_price_per_mtok: null,
  effective_prices: { input_price_per_mtok: 0, cached_input_price_per_mtok: 0, cache_write_price_per_mtok: 0, output_price_per_mtok: 0 },
  supports_vision: false,
  supports_tools: true,
  supports_streaming: true,
  enabled: true,
  source: 'manual',
  provider_configured: true,
  priced: false,
  kind: 'chat',
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

describe('price states', () => {
  it('tells an unpriced model from a free one, though both read 0', () => {
    expect(priceState(model())).toBe('unpriced')
    expect(priceState(model({ priced: true }))).toBe('free')
    expect(priceState(model({ priced: true, output_price_per_mtok: 0.4 }))).toBe('priced')
  })

  it('registers a model with both prices empty as unpriced, and with any number (0 too) as priced', () => {
    expect(priceFields(undefined, null)).toEqual({})
    expect(formPriceState(undefined, null)).toBe('unpriced')
    expect(priceFields(0, undefined)).toEqual({ input_price_per_mtok: 0 })
    expect(formPriceState(0, undefined)).toBe('free')
    expect(priceFields(undefined, 2.5)).toEqual({ output_price_per_mtok: 2.5 })
    expect(formPriceState(undefined, 2.5)).toBe('priced')
    expect(priceFields(Number.NaN, 1)).toEqual({ output_price_per_mtok: 1 })
  })

  it('sends an empty cache price as null: the provider’s default ratio of the input price', () => {
    expect(cachePrices(undefined, null)).toEqual({ cached_input_price_per_mtok: null, cache_write_price_per_mtok: null })
    expect(cachePrices(0.3, 3.75)).toEqual({ cached_input_price_per_mtok: 0.3, cache_write_price_per_mtok: 3.75 })
    expect(cachePrices(0, Number.NaN)).toEqual({ cached_input_price_per_mtok: 0, cache_write_price_per_mtok: null })
  })

  it('prices with both fields, the empty one as 0, and has nothing to send when both are empty', () => {
    expect(patchPrices(1.25, undefined)).toEqual({ input_price_per_mtok: 1.25, output_price_per_mtok: 0 })
    expect(patchPrices(0, 0)).toEqual({ input_price_per_mtok: 0, output_price_per_mtok: 0 })
    expect(patchPrices(null, undefined)).toBeNull()
  })
})

describe('modelsApi', () => {
  it('prices a model with a PATCH on its id, each path segment escaped', async () => {
    const seen: Seen[] = []
    client.defaults.adapter = server(seen, (body) => [200, model({ priced: true, ...(body as object) })])
    const updated = await modelsApi.setPrices('openrouter/vendor/a b', { input_price_per_mtok: 0, output_price_per_mtok: 0 })
    expect(seen).toEqual([
      {
        method: 'PATCH',
        url: '/v1/admin/models/openrouter/vendor/a%20b',
        body: { input_price_per_mtok: 0, output_price_per_mtok: 0 },
      },
    ])
    expect(priceState(updated)).toBe('free')
  })

  it('sets and resets the cache prices with the other prices in one PATCH', async () => {
    const seen: Seen[] = []
    client.defaults.adapter = server(seen, (body) => [200, model({ priced: true, ...(body as object) })])
    const updated = await modelsApi.setPrices('anthropic/x', {
      input_price_per_mtok: 3,
      output_price_per_mtok: 15,
      ...cachePrices(0.3, undefined),
    })
    expect(seen[0]?.body).toEqual({
      input_price_per_mtok: 3,
      output_price_per_mtok: 15,
      cached_input_price_per_mtok: 0.3,
      cache_write_price_per_mtok: null,
    })
    expect(updated.cached_input_price_per_mtok).toBe(0.3)
  })

  it('registers without prices when the form left them empty', async () => {
    const seen: Seen[] = []
    client.defaults.adapter = server(seen, () => [201, model()])
    const created = await modelsApi.create({ id: 'openai/local-x', ...priceFields(undefined, undefined) })
    expect(seen[0]?.body).toEqual({ id: 'openai/local-x' })
    expect(created.priced).toBe(false)
  })

  it('passes on a refused price with the field it concerns', async () => {
    client.defaults.adapter = server([], () => [
      400,
      { error: { message: 'prices must not be negative', type: 'invalid_request_error', code: 'invalid_value', param: 'input_price_per_mtok' } },
    ])
    await expect(
      modelsApi.setPrices('openai/local-x', { input_price_per_mtok: -1, output_price_per_mtok: 0 }),
    ).rejects.toMatchObject({ status: 400, param: 'input_price_per_mtok', message: 'prices must not be negative' })
  })
})
