// Names for the ids the request log carries: each key or organization is looked up once and cached for
// the page's lifetime; an id that cannot be read (deleted, not visible) is shown shortened.

import { reactive } from 'vue'

import { apiKeysApi, keyLabel } from '@/api/apiKeys'
import { organizationsApi } from '@/api/organizations'

const short = (id: string) => (id.length > 12 ? `${id.slice(0, 8)}…` : id)

export function useNames() {
  const keys = reactive(new Map<string, string>())
  const orgs = reactive(new Map<string, string>())
  const pending = new Set<string>()

  async function lookup(
    id: string,
    cache: Map<string, string>,
    fetchName: (id: string) => Promise<string>,
  ): Promise<void> {
    if (cache.has(id) || pending.has(id)) return
    pending.add(id)
    try {
      cache.set(id, await fetchName(id))
    } catch {
      cache.set(id, short(id))
    } finally {
      pending.delete(id)
    }
  }

  function resolve(keyIds: (string | null | undefined)[], orgIds: (string | null | undefined)[]): void {
    for (const id of new Set(keyIds)) {
      if (id) void lookup(id, keys, async (k) => keyLabel(await apiKeysApi.get(k)))
    }
    for (const id of new Set(orgIds)) {
      if (id) void lookup(id, orgs, async (o) => (await organizationsApi.get(o)).name)
    }
  }

  return {
    resolve,
    key: (id: string | null | undefined) => (id ? (keys.get(id) ?? short(id)) : '—'),
    org: (id: string | null | undefined) => (id ? (orgs.get(id) ?? short(id)) : ''),
  }
}
