import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { h, ref, shallowRef } from 'vue'

import type { PagedState } from '@/hooks/usePagedList'
import { setLocale } from '@/locale'

import PagedTable from '../PagedTable.vue'

setLocale('en-US')

interface Row {
  id: string
  name: string
}

function fakeList(over: { rows?: Row[]; total?: number; loading?: boolean; error?: string | null } = {}) {
  return {
    rows: shallowRef<Row[]>(over.rows ?? []),
    total: ref(over.total ?? 0),
    page: ref(1),
    limit: ref(20),
    loading: ref(over.loading ?? false),
    error: ref<string | null>(over.error ?? null),
    load: vi.fn(async () => {}),
    changePage: vi.fn(async () => {}),
    changePageSize: vi.fn(async () => {}),
  } satisfies PagedState<Row>
}

function render(list: PagedState<Row>, props: Record<string, unknown> = {}) {
  return mount(PagedTable, {
    props: { list, emptyText: 'No rows yet', ...props },
    attrs: { 'data-testid': 'the-table' },
    slots: {
      toolbar: () => h('button', { class: 'tool' }, 'New'),
      columns: () => h('div'),
    },
    attachTo: document.body,
  })
}

const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, name: `row ${i}` }))

describe('PagedTable', () => {
  it('shows the toolbar, hands its attributes to the table and says what an empty table means', () => {
    const w = render(fakeList())
    expect(w.find('.toolbar .tool').exists()).toBe(true)
    expect(w.find('[data-testid="the-table"]').classes()).toContain('arco-table')
    expect(w.text()).toContain('No rows yet')
    expect(w.find('[data-testid="list-error"]').exists()).toBe(false)
    w.unmount()
  })

  it('shows the table as loading while the list loads', async () => {
    const list = fakeList()
    const w = render(list)
    expect(w.find('.arco-spin-loading').exists()).toBe(false)
    list.loading.value = true
    await w.vm.$nextTick()
    expect(w.find('.arco-spin-loading').exists()).toBe(true)
    w.unmount()
  })

  it('shows a load error above the table, with "Try again" when asked for', async () => {
    const list = fakeList({ error: 'the server is down' })
    const plain = render(list)
    expect(plain.get('[data-testid="list-error"]').text()).toContain('the server is down')
    expect(plain.find('[data-testid="list-error"] button').exists()).toBe(false)
    expect(plain.text()).toContain('No rows yet')
    plain.unmount()

    const w = render(list, { retry: true })
    await w.get('[data-testid="list-error"] button').trigger('click')
    expect(list.load).toHaveBeenCalledOnce()
    // The empty table then says the load failed rather than that there is nothing.
    expect(w.text()).toContain('Something went wrong')
    expect(w.text()).not.toContain('No rows yet')
    w.unmount()
  })

  it('pages through the list: a page click and a page-size change reach it', async () => {
    const list = fakeList({ rows: rows(20), total: 45 })
    const w = render(list, { pageSizes: [10, 20, 50] })

    expect(w.find('.arco-pagination-total').text()).toContain('45')
    const page2 = w.findAll('.arco-pagination-item').find((li) => li.text() === '2')
    await page2?.trigger('click')
    expect(list.changePage).toHaveBeenCalledWith(2)

    expect(w.find('.arco-pagination-options').exists()).toBe(true)
    w.findComponent({ name: 'Table' }).vm.$emit('pageSizeChange', 50)
    expect(list.changePageSize).toHaveBeenCalledWith(50)
    w.unmount()
  })

  it('hands row selection (v-model:selected-keys) through to the table', async () => {
    const onSelect = vi.fn()
    const w = mount(PagedTable, {
      props: { list: fakeList({ rows: rows(3), total: 3 }), emptyText: 'none' },
      attrs: {
        rowSelection: { type: 'checkbox' },
        selectedKeys: [],
        'onUpdate:selectedKeys': onSelect,
      },
      slots: { columns: () => h('div') },
      attachTo: document.body,
    })
    const boxes = w.findAll('tbody .arco-checkbox input')
    expect(boxes).toHaveLength(3)
    await boxes[1]?.trigger('click')
    expect(onSelect).toHaveBeenCalledWith(['r1'])
    w.unmount()
  })

  it('offers no page sizes unless given', () => {
    const w = render(fakeList({ rows: rows(20), total: 45 }))
    expect(w.find('.arco-pagination-options').exists()).toBe(false)
    w.unmount()
  })
})
