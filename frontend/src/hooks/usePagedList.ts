// A server-paginated list: filters, page and size in; rows, total, loading and the last error out.
// Changing a filter goes back to page 1; a newer load wins over a slower older one.

import { reactive, ref, shallowRef, type Ref, type ShallowRef, type UnwrapRef } from 'vue'

import { errorMessage } from '@/api/http'
import type { Paginated } from '@/api/types'

/** The page sizes a list screen offers (components/PagedTable.vue `page-sizes`). */
export const PAGE_SIZES = [10, 20, 50, 100]

/** What a paged table shows and calls (components/PagedTable.vue): a `usePagedList` without its filters. */
export interface PagedState<T> {
  rows: ShallowRef<T[]>
  total: Ref<number>
  page: Ref<number>
  limit: Ref<number>
  loading: Ref<boolean>
  error: Ref<string | null>
  load: () => Promise<void>
  changePage: (page: number) => Promise<void>
  changePageSize: (size: number) => Promise<void>
}

export function usePagedList<T, F extends object>(
  fetcher: (q: F & { page: number; limit: number }) => Promise<Paginated<T>>,
  initialFilters: F,
  pageSize = 20,
) {
  const filters = reactive({ ...initialFilters }) as UnwrapRef<F>
  const rows = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const limit = ref(pageSize)
  const loading = ref(false)
  const error = ref<string | null>(null)
  let seq = 0

  /** Drops empty-string and null filters so they are not sent as `?x=`. */
  function cleanFilters(): F {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(filters as object)) {
      if (v !== '' && v !== null && v !== undefined) out[k] = v
    }
    return out as F
  }

  async function load(): Promise<void> {
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const res = await fetcher({ ...cleanFilters(), page: page.value, limit: limit.value })
      if (mine !== seq) return
      rows.value = res.data
      total.value = res.pagination.total
      // Deleting the last row of the last page: step back.
      if (res.data.length === 0 && page.value > 1 && res.pagination.pages < page.value) {
        page.value = Math.max(1, res.pagination.pages)
        await load()
      }
    } catch (e) {
      if (mine !== seq) return
      error.value = errorMessage(e)
      rows.value = []
      total.value = 0
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  function search(): Promise<void> {
    page.value = 1
    return load()
  }

  function reset(): Promise<void> {
    Object.assign(filters as object, initialFilters)
    return search()
  }

  function changePage(p: number): Promise<void> {
    page.value = p
    return load()
  }

  function changePageSize(size: number): Promise<void> {
    limit.value = size
    page.value = 1
    return load()
  }

  return { filters, rows, total, page, limit, loading, error, load, search, reset, changePage, changePageSize }
}
