import { AxiosError, AxiosHeaders, type AxiosAdapter } from 'axios'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'

import type { Channel } from '@/api/channels'
import { client } from '@/api/http'
import { setLocale } from '@/locale'

import ChannelFormModal from '../ChannelFormModal.vue'

vi.mock('@/hooks/useNotify', () => ({ notifyError: vi.fn(), notifySuccess: vi.fn(), dismissToasts: vi.fn() }))

setLocale('en-US')

const stored: Channel = {
  id: 'c1',
  provider: 'openai',
  name: 'backup',
  base_url: 'https://api.openai.com/v1',
  api_key_hint: 'sk-…a1b2',
  weight: 1,
  priority: 0,
  models: null,
  model_map: {},
  api_version: null,
  ca_file: null,
  enabled: true,
  disabled_reason: null,
  source: 'database',
  health: {
    state: 'closed',
    open_for_ms: null,
    window_requests: 0,
    window_failures: 0,
    successes: 0,
    failures: 0,
    opened: 0,
    recent_errors: [],
  },
  created_at: null,
  updated_at: null,
}

interface Seen {
  method: string
  url: string
  body: unknown
}

/** Records each request; `refuse` answers it with that error envelope instead. */
function server(seen: Seen[], refuse?: [number, object]): AxiosAdapter {
  return async (config) => {
    const body = typeof config.data === 'string' ? JSON.parse(config.data) : config.data
    seen.push({ method: (config.method ?? 'get').toUpperCase(), url: config.url ?? '', body })
    const response = (status: number, data: unknown) => ({ data, status, statusText: '', headers: new AxiosHeaders(), config })
    if (refuse) throw new AxiosError('refused', 'ERR_BAD_REQUEST', config, {}, response(refuse[0], refuse[1]))
    return response(config.method === 'post' ? 201 : 200, { ...stored, ...(body as object) })
  }
}

const original = client.defaults.adapter
let wrapper: VueWrapper | null = null
afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  client.defaults.adapter = original
  document.body.innerHTML = ''
})

/** Opens the dialog (it fills its form as it opens) on `channel`, or blank. */
async function open(channel: Channel | null, refuse?: [number, object]) {
  const seen: Seen[] = []
  client.defaults.adapter = server(seen, refuse)
  const w = mount(ChannelFormModal, {
    props: { visible: false, channel, providers: ['openai', 'anthropic'] },
    attachTo: document.body,
  })
  wrapper = w
  await w.setProps({ visible: true })
  await flushPromises()
  return { w, seen }
}

/** The dialog is teleported to the body. */
const q = <E extends Element>(selector: string) => document.body.querySelector<E>(selector)

async function type(testid: string, value: string): Promise<void> {
  const el = q<HTMLInputElement | HTMLTextAreaElement>(`[data-testid="${testid}"] input, [data-testid="${testid}"] textarea, input[data-testid="${testid}"], textarea[data-testid="${testid}"]`)
  if (!el) throw new Error(`no field ${testid}`)
  el.value = value
  el.dispatchEvent(new Event('input', { bubbles: true }))
  await flushPromises()
}

async function ok(text: string): Promise<void> {
  const button = [...document.body.querySelectorAll<HTMLButtonElement>('.arco-modal-footer button')].find(
    (b) => b.textContent?.trim() === text,
  )
  if (!button) throw new Error(`no ${text} button`)
  button.click()
  await flushPromises()
  // Arco validates asynchronously; let it settle and the request go out.
  await new Promise((r) => setTimeout(r, 0))
  await flushPromises()
}

describe('the channel form', () => {
  it('creates a channel with only what was filled in', async () => {
    const { seen } = await open(null)
    await type('channel-provider', 'openai')
    await type('channel-name-input', 'second-key')
    await ok('Create')
    expect(seen).toEqual([
      { method: 'POST', url: '/v1/admin/channels', body: { provider: 'openai', name: 'second-key', weight: 1, priority: 0, enabled: true } },
    ])
  })

  it('shows a refusal under the field the server names', async () => {
    await open(null, [
      422,
      { error: { message: 'storing an upstream credential needs GAIA_SECRET_KEY', type: 'invalid_request_error', code: 'secret_key_required', param: 'api_key' } },
    ])
    await type('channel-provider', 'openai')
    await type('channel-name-input', 'with-key')
    await type('channel-api-key', 'sk-secret')
    await ok('Create')
    const item = [...document.body.querySelectorAll('.arco-form-item')].find((el) => el.querySelector('[data-testid="channel-api-key"]'))
    expect(item?.querySelector('.arco-form-item-message')?.textContent).toContain('GAIA_SECRET_KEY')
  })

  it('keeps the stored key by leaving the field empty: nothing changed, nothing sent', async () => {
    const { seen, w } = await open(stored)
    const key = q<HTMLInputElement>('[data-testid="channel-api-key"] input')
    expect(key?.value).toBe('')
    expect(key?.placeholder).toBe('keep sk-…a1b2')
    await ok('Save')
    expect(seen).toEqual([])
    expect(w.emitted('saved')).toHaveLength(1)
  })

  it('removes the stored key with “Remove the stored key”', async () => {
    const { seen } = await open(stored)
    q<HTMLElement>('[data-testid="channel-remove-key"] input')?.click()
    await flushPromises()
    await ok('Save')
    expect(seen).toEqual([{ method: 'PATCH', url: '/v1/admin/channels/c1', body: { api_key: null } }])
  })

  it('refuses a model map it cannot read, naming the line, before sending anything', async () => {
    const { seen } = await open(stored)
    await type('channel-model-map', 'gpt-4o = dep\nnot a mapping')
    await ok('Save')
    expect(seen).toEqual([])
    expect(document.body.textContent).toContain('(line 2)')
    await type('channel-model-map', 'gpt-4o = dep')
    await ok('Save')
    expect(seen).toEqual([{ method: 'PATCH', url: '/v1/admin/channels/c1', body: { model_map: { 'gpt-4o': 'dep' } } }])
  })
})
