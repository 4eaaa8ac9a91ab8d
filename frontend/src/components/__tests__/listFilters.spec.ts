import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'

import FilterHost from './fixtures/FilterHost.vue'

function render() {
  const search = vi.fn(async () => {})
  const w = mount(FilterHost, { props: { search } })
  return { w, search, filters: w.vm.filters }
}

describe('the list filters', () => {
  it('ListSelect sets its filter and searches again when a value is chosen or cleared', () => {
    const { w, search, filters } = render()
    expect(w.find('[data-testid="status-filter"]').exists()).toBe(true)
    const select = w.findComponent({ name: 'Select' })

    select.vm.$emit('update:modelValue', 'active')
    select.vm.$emit('change', 'active')
    expect(filters.status).toBe('active')
    expect(search).toHaveBeenCalledTimes(1)

    select.vm.$emit('update:modelValue', undefined)
    select.vm.$emit('change', undefined)
    expect(filters.status).toBeUndefined()
    expect(search).toHaveBeenCalledTimes(2)
  })

  it('ListSearch edits the search filter and searches on Enter', async () => {
    const { w, search, filters } = render()
    const input = w.get('[data-testid="search"] input')

    await input.setValue('acme')
    expect(filters.search).toBe('acme')
    expect(search).not.toHaveBeenCalled()

    await input.trigger('keydown', { key: 'Enter' })
    expect(search).toHaveBeenCalled()
  })
})
