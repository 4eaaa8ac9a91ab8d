import { AxiosError, AxiosHeaders, type AxiosAdapter } from 'axios'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { client } from '@/api/http'
import type { RequestRecord } from '@/api/stats'
import { setLocale } from '@/locale'

import RequestLog from '../RequestLog.vue'

vi.mock('@/utils/download', () => ({ saveBlob: vi.fn() }))
vi.mock('@/hooks/useNotify', () => ({ notifyError: vi.fn(), notifySuccess: vi.fn() }))

setLocale('en-US')

const record = (over: Partial<RequestRecord>): RequestRecord => ({
  id: 0,
  request_id: 'req',
  created_at: '2026-11-27T10:00:00Z',
  api_key_id: 'k1',
  organization_id: 'o1',
  api: 'chat.completions',
  model: 'openai/gpt-x',
  model_served: null,
  provider: 'openai',
  status_code: 200,
  error_code: null,
  stream: false,
  prompt_tokens: 0,
  completion_tokens: 0,
  cached_tokens: 0,
  cache_creation_tokens: 0,
  reasoning_tokens: 0,
  total_tokens: 0,
  cost: 0,
  unpriced: false,
  estimated: false,
  attempts: 1,
  total_latency_ms: 100,
  ttft_ms: null,
  ...over,
})

const rows: RequestRecord[] = [
  record({
    id: 1,
    api: 'messages',
    model: 'anthropic/claude-x',
    provider: 'anthropic',
    prompt_tokens: 1200,
    cached_tokens: 1000,
    cache_creation_tokens: 100,
    completion_tokens: 300,
    total_tokens: 1500,
  }),
  record({ id: 2, api: 'responses', prompt_tokens: 50, completion_tokens: 400, reasoning_tokens: 250, total_tokens: 450 }),
  record({ id: 3, api: 'some.future.api', prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 }),
]

/** The gateway as the log sees it: `/v1/requests` answers `rows`; key and organization reads fail (ids shown). */
function server(seen: URL[]): AxiosAdapter {
  return async (config) => {
    const url = new URL(client.getUri(config), 'http://x')
    seen.push(url)
    const answer = (status: number, data: unknown) => ({ data, status, statusText: '', headers: new AxiosHeaders(), config })
    if (url.pathname !== '/v1/requests') {
      throw new AxiosError('not found', 'ERR_BAD_REQUEST', config, {}, answer(404, { error: { message: 'not found' } }))
    }
    if (url.searchParams.get('format') === 'csv') return answer(200, new Blob(['id\n']))
    return answer(200, { data: rows, pagination: { page: 1, limit: 20, total: rows.length, pages: 1 } })
  }
}

const original = client.defaults.adapter
let wrapper: VueWrapper | null = null
afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  client.defaults.adapter = original
})

async function render() {
  const seen: URL[] = []
  client.defaults.adapter = server(seen)
  const w = mount(RequestLog, {
    props: { organizationId: null, keyId: null, start: '2026-11-01', end: '2026-11-30', providers: ['openai'], showKey: true },
    attachTo: document.body,
  })
  wrapper = w
  await flushPromises()
  const logCalls = () => seen.filter((u) => u.pathname === '/v1/requests')
  return { w, logCalls }
}

const texts = (w: VueWrapper, testid: string) => w.findAll(`[data-testid="${testid}"]`).map((e) => e.text())

/** The API filter's select: the ListSelect on the `api` filter. */
function apiFilter(w: VueWrapper) {
  const host = w.findAllComponents({ name: 'ListSelect' }).find((s) => s.props('field') === 'api')
  if (!host) throw new Error('no API filter')
  return host.getComponent({ name: 'Select' })
}

describe('request log', () => {
  it('has an API column naming the API each request came in through, an unknown one as it came', async () => {
    const { w } = await render()
    const headers = w.findAll('thead th').map((th) => th.text())
    expect(headers).toContain('API')
    expect(headers.indexOf('API')).toBe(headers.indexOf('Model · provider') + 1)
    expect(texts(w, 'log-api')).toEqual(['Messages', 'Responses', 'some.future.api'])
  })

  it('shows under the tokens in / out the cache reads, cache writes and reasoning there were', async () => {
    const { w } = await render()
    const cells = w.findAll('[data-testid="log-tokens"]')
    expect(cells).toHaveLength(3)
    expect(cells[0]?.text()).toContain('1,200 / 300')
    expect(cells[0]?.findAll('[data-testid="log-token-part"]').map((e) => e.text())).toEqual([
      '1,000 cache read',
      '100 cache write',
    ])
    expect(cells[1]?.findAll('[data-testid="log-token-part"]').map((e) => e.text())).toEqual(['250 reasoning'])
    expect(cells[2]?.text()).toBe('10 / 2')
  })

  it('spells the whole breakdown out in the tokens tooltip', async () => {
    vi.useFakeTimers()
    try {
      const { w } = await render()
      await w.findAll('[data-testid="log-tokens"]')[0]?.trigger('mouseenter')
      await vi.advanceTimersByTimeAsync(500)
      const tip = document.body.querySelector('.arco-tooltip-content')?.textContent ?? ''
      expect(tip).toContain('In 1,200: 1,000 read from the prompt cache, 100 written to it')
      expect(tip).toContain('Out 300: 0 of them reasoning')
    } finally {
      vi.useRealTimers()
    }
  })

  it('offers the four APIs as a filter, "All APIs" when none is chosen', async () => {
    const { w } = await render()
    const select = w.get('[data-testid="log-api-filter"]')
    expect(select.get('input').attributes('placeholder')).toBe('All APIs')
    await select.trigger('click')
    await flushPromises()
    const options = apiFilter(w).findAllComponents({ name: 'Option' }).map((o) => o.text())
    expect(options).toEqual(['Chat Completions', 'Messages', 'Responses', 'Embeddings'])
  })

  it('asks the server for the chosen API with `api=`, from page 1, and for any API once cleared', async () => {
    const { w, logCalls } = await render()
    expect(logCalls()).toHaveLength(1)
    expect(logCalls()[0]?.searchParams.has('api')).toBe(false)

    const select = apiFilter(w)
    select.vm.$emit('update:modelValue', 'messages')
    select.vm.$emit('change', 'messages')
    await flushPromises()
    const filtered = logCalls().at(-1)
    expect(filtered?.searchParams.get('api')).toBe('messages')
    expect(filtered?.searchParams.get('page')).toBe('1')
    expect(filtered?.searchParams.get('start_date')).toBe('2026-11-01')

    select.vm.$emit('update:modelValue', undefined)
    select.vm.$emit('change', undefined)
    await flushPromises()
    expect(logCalls()).toHaveLength(3)
    expect(logCalls().at(-1)?.searchParams.has('api')).toBe(false)
  })

  it('exports the log filtered by the same API', async () => {
    const { w, logCalls } = await render()
    const select = apiFilter(w)
    select.vm.$emit('update:modelValue', 'embeddings')
    select.vm.$emit('change', 'embeddings')
    await flushPromises()

    await (w.vm as unknown as { exportCsv: () => Promise<void> }).exportCsv()
    const csv = logCalls().at(-1)
    expect(csv?.searchParams.get('format')).toBe('csv')
    expect(csv?.searchParams.get('api')).toBe('embeddings')
  })
})
