import { IconUserAdd } from '@arco-design/web-vue/es/icon'
import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { h, markRaw, reactive } from 'vue'

import { setLocale } from '@/locale'

import ListActions from '../ListActions.vue'
import ListSelect from '../ListSelect.vue'
import PageCard from '../PageCard.vue'

setLocale('en-US')

describe('PageCard', () => {
  it('shows the title, the subtitle on the right, the content, and `after` below the card', () => {
    const w = mount(PageCard, {
      props: { title: 'Organizations', subtitle: 'Tenants and their limits' },
      slots: { default: () => h('p', { class: 'content' }, 'table'), after: () => h('i', { class: 'dialog' }) },
    })
    expect(w.classes()).toContain('page')
    expect(w.get('.arco-card-header-title').text()).toBe('Organizations')
    expect(w.get('.arco-card-header-extra .muted').text()).toBe('Tenants and their limits')
    expect(w.get('.page-card .content').text()).toBe('table')
    expect(w.find('.page-card .dialog').exists()).toBe(false)
    expect(w.find('.page > .dialog').exists()).toBe(true)
  })

  it('has no header extra without a subtitle', () => {
    const w = mount(PageCard, { props: { title: 'Models' }, slots: { default: () => 'x' } })
    expect(w.find('.arco-card-header-extra').exists()).toBe(false)
  })
})

describe('ListActions', () => {
  it('offers Refresh with its word and the create button, and says which was clicked', async () => {
    const w = mount(ListActions, { props: { create: 'New organization', createTestid: 'org-create' } })
    const [refresh, create] = w.findAll('button')
    expect(refresh?.text()).toBe('Refresh')
    expect(refresh?.classes()).not.toContain('arco-btn-only-icon')
    expect(create?.text()).toBe('New organization')
    expect(create?.attributes('data-testid')).toBe('org-create')
    expect(create?.find('.arco-icon-plus').exists()).toBe(true)

    await refresh?.trigger('click')
    await create?.trigger('click')
    expect(w.emitted('refresh')).toHaveLength(1)
    expect(w.emitted('create')).toHaveLength(1)
  })

  it('can show Refresh as an icon only, another create icon, or no create button', () => {
    const w = mount(ListActions, { props: { create: 'New user', createIcon: markRaw(IconUserAdd), iconOnly: true } })
    const [refresh, create] = w.findAll('button')
    expect(refresh?.text()).toBe('')
    expect(refresh?.classes()).toContain('arco-btn-only-icon')
    expect(create?.find('.arco-icon-user-add').exists()).toBe(true)

    const readOnly = mount(ListActions, { props: { create: null } })
    expect(readOnly.findAll('button')).toHaveLength(1)
  })
})

describe('ListSelect options', () => {
  function render(props: { options: string[]; labels?: string }) {
    const search = vi.fn(async () => {})
    const list = { filters: reactive<{ status?: string }>({ status: undefined }), search }
    // The generic component's filters type is not inferred through `mount`.
    const w = mount(ListSelect, { props: { list, field: 'status', ...props } as never, attachTo: document.body })
    return { w, list, search }
  }

  async function optionTexts(w: ReturnType<typeof render>['w']): Promise<string[]> {
    await w.get('.arco-select-view').trigger('click')
    await new Promise((r) => setTimeout(r, 0))
    return [...document.body.querySelectorAll('.arco-select-option')].map((o) => o.textContent?.trim() ?? '')
  }

  it('labels the options through their i18n prefix', async () => {
    const { w } = render({ options: ['active', 'inactive'], labels: 'status' })
    expect(await optionTexts(w)).toEqual(['Active', 'Inactive'])
    w.unmount()
  })

  it('shows an option as its value without a prefix, and searches again when one is chosen', async () => {
    const { w, list, search } = render({ options: ['openai', 'anthropic'] })
    expect(await optionTexts(w)).toEqual(['openai', 'anthropic'])
    const select = w.findComponent({ name: 'Select' })
    select.vm.$emit('update:modelValue', 'anthropic')
    select.vm.$emit('change', 'anthropic')
    expect(list.filters.status).toBe('anthropic')
    expect(search).toHaveBeenCalledOnce()
    w.unmount()
  })
})
