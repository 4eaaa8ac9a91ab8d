import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import * as authApi from '@/api/auth'
import { ApiError } from '@/api/http'

import { principalFrom, SESSION_KEY, useAuthStore } from '../auth'

vi.mock('@/api/auth', () => ({
  loginWithPassword: vi.fn(),
  loginWithKey: vi.fn(),
  whoAmI: vi.fn(),
  probePermissions: vi.fn(),
}))

const api = vi.mocked(authApi)

beforeEach(() => {
  sessionStorage.clear()
  vi.resetAllMocks()
  setActivePinia(createPinia())
})

describe('the auth store', () => {
  it('keeps the token and principal of a password login in sessionStorage', async () => {
    api.loginWithPassword.mockResolvedValue({
      token: 'jwt-1',
      user_id: 'u1',
      username: 'ops',
      role: 'admin',
      expires_at: '2099-01-01T00:00:00Z',
    })
    api.whoAmI.mockResolvedValue({ kind: 'user', username: 'ops', role: 'admin', permissions: ['admin'] })
    const auth = useAuthStore()

    await auth.loginWithPassword('ops', 'secret')

    expect(api.loginWithPassword).toHaveBeenCalledWith('ops', 'secret')
    expect(auth.isLoggedIn).toBe(true)
    expect(auth.isAdmin).toBe(true)
    expect(auth.displayName).toBe('ops')
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null')
    expect(saved.token).toBe('jwt-1')
    expect(saved.principal.permissions).toEqual(['admin'])
  })

  it('scopes a read key to its organization', async () => {
    api.loginWithKey.mockResolvedValue({
      token: 'jwt-k',
      key_id: 'k1',
      permissions: ['read'],
      organization_id: 'org-1',
      expires_at: '2099-01-01T00:00:00Z',
    })
    api.whoAmI.mockResolvedValue({ kind: 'key', key_id: 'k1', permissions: ['read'], organization_id: 'org-1' })
    const auth = useAuthStore()

    await auth.loginWithKey('  gaia_abc_def  ')

    expect(api.loginWithKey).toHaveBeenCalledWith('gaia_abc_def')
    expect(auth.isAdmin).toBe(false)
    expect(auth.orgScope).toBe('org-1')
    expect(auth.can('read')).toBe(true)
    expect(auth.can('write')).toBe(false)
    expect(auth.can('admin')).toBe(false)
    expect(auth.principal?.keyId).toBe('k1')
    expect(auth.isExpired(Date.parse('2026-11-27T00:00:00Z'))).toBe(false)
    expect(auth.isExpired(Date.parse('2099-01-01T00:00:01Z'))).toBe(true)
  })

  it('does not confine a read-only user to an organization', async () => {
    api.loginWithPassword.mockResolvedValue({
      token: 'jwt-u',
      user_id: 'u2',
      username: 'viewer',
      role: 'user',
      expires_at: '2099-01-01T00:00:00Z',
    })
    api.whoAmI.mockResolvedValue({ kind: 'user', user_id: 'u2', username: 'viewer', role: 'user', permissions: ['read'] })
    const auth = useAuthStore()
    await auth.loginWithPassword('viewer', 'pw')
    expect(auth.isAdmin).toBe(false)
    expect(auth.orgScope).toBeNull()
    expect(auth.can('read')).toBe(true)
  })

  it('probes the permissions when the server has no /v1/auth/me', async () => {
    api.loginWithKey.mockResolvedValue({ token: 'gaia_raw_key' })
    api.whoAmI.mockResolvedValue(null)
    api.probePermissions.mockResolvedValue(['admin'])
    const auth = useAuthStore()

    await auth.loginWithKey('gaia_raw_key')

    expect(api.probePermissions).toHaveBeenCalledWith('gaia_raw_key')
    expect(auth.principal?.kind).toBe('key')
    expect(auth.isAdmin).toBe(true)
  })

  it('stays signed out when the login fails', async () => {
    api.loginWithPassword.mockRejectedValue(new ApiError('invalid username or password', 401))
    const auth = useAuthStore()

    await expect(auth.loginWithPassword('x', 'y')).rejects.toThrow('invalid username or password')
    expect(auth.isLoggedIn).toBe(false)
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
  })

  it('restores the session of this tab', () => {
    sessionStorage.setItem(
      SESSION_KEY,
      JSON.stringify({
        token: 'jwt-2',
        principal: { kind: 'user', username: 'a', userId: 'u', keyId: null, role: 'user', permissions: ['read', 'write'], organizationId: null, expiresAt: null },
      }),
    )
    const auth = useAuthStore()
    expect(auth.token).toBe('jwt-2')
    expect(auth.can('write')).toBe(true)
    expect(auth.can('admin')).toBe(false)
  })

  it('ignores a damaged stored session', () => {
    sessionStorage.setItem(SESSION_KEY, '{not json')
    expect(useAuthStore().isLoggedIn).toBe(false)
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: 5 }))
    setActivePinia(createPinia())
    expect(useAuthStore().isLoggedIn).toBe(false)
  })

  it('clears everything on logout and remembers why the session ended', async () => {
    api.loginWithPassword.mockResolvedValue({
      token: 'jwt-3',
      user_id: 'u3',
      username: 'a',
      role: 'admin',
      expires_at: '2099-01-01T00:00:00Z',
    })
    api.whoAmI.mockResolvedValue(null)
    const auth = useAuthStore()
    await auth.loginWithPassword('a', 'b')

    auth.logout('the API key was revoked')

    expect(auth.token).toBeNull()
    expect(auth.principal).toBeNull()
    expect(auth.isLoggedIn).toBe(false)
    expect(auth.endedReason).toBe('the API key was revoked')
    expect(sessionStorage.getItem(SESSION_KEY)).toBeNull()
  })
})

describe('principalFrom', () => {
  it('prefers what /v1/auth/me says over the login answer', () => {
    const p = principalFrom(
      { token: 't', username: 'old', role: 'user' },
      'user',
      { kind: 'user', username: 'new', role: 'admin', permissions: ['admin'] },
    )
    expect(p).toMatchObject({ username: 'new', role: 'admin', permissions: ['admin'] })
  })

  it('derives permissions from the role when nothing else is known', () => {
    expect(principalFrom({ token: 't', role: 'admin' }, 'user', null).permissions).toEqual(['admin'])
    expect(principalFrom({ token: 't', role: 'user' }, 'user', null).permissions).toEqual(['read'])
  })
})
