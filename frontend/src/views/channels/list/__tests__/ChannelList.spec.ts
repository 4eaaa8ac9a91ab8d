import { AxiosHeaders, type AxiosAdapter } from 'axios'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { Channel, ChannelHealth } from '@/api/channels'
import { client } from '@/api/http'
import { setLocale } from '@/locale'

import ChannelList from '../index.vue'

vi.mock('@/hooks/useNotify', () => ({
  notifyError: vi.fn(),
  notifySuccess: vi.fn(),
  confirmDanger: vi.fn(),
  dismissToasts: vi.fn(),
}))

setLocale('en-US')

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

const channel = (over: Partial<Channel>): Channel => ({
  id: 'c',
  provider: 'openai',
  name: 'c',
  base_url: 'http://127.0.0.1:9/v1',
  api_key_hint: null,
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

const rows: Channel[] = [
  channel({
    id: 'config:openai:default',
    name: 'default',
    base_url: 'https://mock.example/v1',
    api_key_hint: 'sk-…ummy',
    source: 'config',
    created_at: null,
    updated_at: null,
    health: health({ successes: 8, window_requests: 8 }),
  }),
  channel({
    id: 'b1',
    name: 'e2e-broken',
    weight: 1000,
    priority: 10,
    models: ['gpt-4o-mini', 'gpt-4o'],
    model_map: { 'gpt-4o': 'dep' },
    health: health({
      state: 'open',
      open_for_ms: 4200,
      window_requests: 5,
      window_failures: 5,
      failures: 5,
      opened: 1,
      recent_errors: [{ at: '2026-12-01T10:00:05Z', code: 'upstream_unavailable', message: 'connection refused' }],
    }),
  }),
  channel({
    id: 'k1',
    name: 'old-key',
    enabled: false,
    disabled_reason: 'the provider refused the credential (401)',
    health: health({ state: 'disabled' }),
  }),
]

interface Seen {
  method: string
  url: string
  body: unknown
}

function server(seen: Seen[]): AxiosAdapter {
  return async (config) => {
    const body = typeof config.data === 'string' ? JSON.parse(config.data) : config.data
    seen.push({ method: (config.method ?? 'get').toUpperCase(), url: config.url ?? '', body })
    const answer = (status: number, data: unknown) => ({ data, status, statusText: '', headers: new AxiosHeaders(), config })
    if (config.method === 'patch') return answer(200, { ...rows[1], ...(body as object) })
    return answer(200, rows)
  }
}

const original = client.defaults.adapter
let wrapper: VueWrapper | null = null

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  client.defaults.adapter = original
  vi.useRealTimers()
})

async function render() {
  const seen: Seen[] = []
  client.defaults.adapter = server(seen)
  const w = mount(ChannelList, { attachTo: document.body })
  wrapper = w
  await flushPromises()
  const row = (name: string) => {
    const tr = w.findAll('tbody tr.arco-table-tr').find((r) => r.find('[data-testid="channel-name"]').exists() && r.get('[data-testid="channel-name"]').text() === name)
    if (!tr) throw new Error(`no row ${name}`)
    return tr
  }
  return { w, seen, row }
}

const health$ = (w: VueWrapper) => w.findAll('[data-testid="channel-health"]')

describe('the channels screen', () => {
  it('shows each channel’s health as a coloured state, an open one with its seconds left', async () => {
    const { w } = await render()
    expect(health$(w).map((e) => [e.attributes('data-state'), e.text()])).toEqual([
      ['closed', 'Healthy'],
      ['open', 'Open · 5 s'],
      ['disabled', 'Disabled'],
    ])
    expect(health$(w)[1]?.classes()).toContain('arco-tag-red')
    await vi.advanceTimersByTimeAsync(1000)
    expect(health$(w)[1]?.text()).toBe('Open · 4 s')
  })

  it('shows the counters, the models and where each channel comes from', async () => {
    const { row } = await render()
    const broken = row('e2e-broken')
    expect(broken.get('[data-testid="channel-window"]').text()).toBe('5 / 5')
    expect(broken.get('[data-testid="channel-totals"]').text()).toBe('0 ok · 5 failed')
    expect(broken.text()).toContain('2 models')
    expect(broken.text()).toContain('1 renamed')
    expect(broken.get('[data-testid="channel-source"]').text()).toBe('database')
    expect(row('default').get('[data-testid="channel-source"]').text()).toBe('config')
    expect(row('default').text()).toContain('all')
  })

  it('keeps configured channels read-only: no edit or delete, the switch disabled', async () => {
    const { row } = await render()
    const config = row('default')
    expect(config.find('[data-testid="channel-edit"]').exists()).toBe(false)
    expect(config.find('[data-testid="channel-delete"]').exists()).toBe(false)
    expect(config.find('[data-testid="channel-test"]').exists()).toBe(true)
    expect(config.get('[data-testid="channel-enabled"]').classes()).toContain('arco-switch-disabled')
    const stored = row('e2e-broken')
    expect(stored.find('[data-testid="channel-edit"]').exists()).toBe(true)
    expect(stored.get('[data-testid="channel-enabled"]').classes()).not.toContain('arco-switch-disabled')
  })

  it('lists a channel’s recent errors when its row is opened', async () => {
    const { w, row } = await render()
    await row('e2e-broken').get('.arco-table-expand-btn').trigger('click')
    await flushPromises()
    const errors = w.get('[data-testid="channel-errors"][data-channel="b1"]')
    expect(errors.get('[data-testid="channel-error-code"]').text()).toBe('upstream_unavailable')
    expect(errors.text()).toContain('connection refused')
  })

  it('switches a stored channel off with a PATCH, and reads the list again', async () => {
    const { seen, row } = await render()
    await row('e2e-broken').get('[data-testid="channel-enabled"]').trigger('click')
    await flushPromises()
    expect(seen.filter((s) => s.method === 'PATCH')).toEqual([
      { method: 'PATCH', url: '/v1/admin/channels/b1', body: { enabled: false } },
    ])
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/v1/admin/channels' })
  })

  it('reads the health again every 5 seconds while it is open', async () => {
    const { seen } = await render()
    const reads = () => seen.filter((s) => s.method === 'GET').length
    expect(reads()).toBe(1)
    await vi.advanceTimersByTimeAsync(5000)
    expect(reads()).toBe(2)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(reads()).toBe(4)
    wrapper?.unmount()
    wrapper = null
    await vi.advanceTimersByTimeAsync(10_000)
    expect(reads()).toBe(4)
  })
})
