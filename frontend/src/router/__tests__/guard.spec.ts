import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'

import type { Permission } from '@/api/types'
import { useAuthStore } from '@/stores/auth'

import { installGuards } from '..'
import { routes } from '../routes'

function signIn(permissions: Permission[], organizationId: string | null = null): void {
  const auth = useAuthStore()
  auth.token = 't'
  auth.principal = { kind: 'key', username: null, userId: null, keyId: 'k', role: null, permissions, organizationId, expiresAt: null }
}

async function visit(path: string) {
  const router = createRouter({ history: createMemoryHistory(), routes })
  installGuards(router)
  await router.push(path)
  return router.currentRoute.value
}

beforeEach(() => {
  sessionStorage.clear()
  setActivePinia(createPinia())
})

describe('the route guard', () => {
  it('sends a signed-out visitor to the login page, remembering where they were going', async () => {
    const r = await visit('/organizations?page=2')
    expect(r.name).toBe('login')
    expect(r.query.redirect).toBe('/organizations?page=2')
  })

  it('lets an admin open every page', async () => {
    signIn(['admin'])
    for (const name of ['dashboard', 'organizations', 'api-keys', 'models', 'channels', 'users', 'playground', 'api-usage']) {
      expect((await visit(`/${name}`)).name).toBe(name)
    }
  })

  it('keeps a read key out of admin pages', async () => {
    signIn(['read'], 'org-1')
    expect((await visit('/models')).name).toBe('forbidden')
    expect((await visit('/channels')).name).toBe('forbidden')
    expect((await visit('/users')).name).toBe('forbidden')
    expect((await visit('/api-keys')).name).toBe('api-keys')
    expect((await visit('/')).name).toBe('dashboard')
  })

  it('sends a signed-in user away from the login page', async () => {
    signIn(['read'])
    expect((await visit('/login')).name).toBe('dashboard')
  })
})
