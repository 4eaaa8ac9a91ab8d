// The one owner of the session: the bearer token and who it belongs to, kept in sessionStorage (gone
// when the tab closes). Logging out always clears both.

import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import * as authApi from '@/api/auth'
import type { Me, SignIn } from '@/api/auth'
import type { Permission } from '@/api/types'

export interface Principal {
  /** `user`, `key` or `bootstrap` (the GAIA_ADMIN_KEY). */
  kind: Me['kind']
  username: string | null
  userId: string | null
  keyId: string | null
  /** Users: `admin` or `user`. */
  role: string | null
  /** Any of `read`, `write`, `admin`, as the server said. */
  permissions: string[]
  /** Key sessions: the key's organization (non-admin keys are confined to it). */
  organizationId: string | null
  /** When the token expires, if the server said. */
  expiresAt: string | null
}

interface Session {
  token: string
  principal: Principal
}

export const SESSION_KEY = 'gaia.session'

function readSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY)
    if (!raw) return null
    const s = JSON.parse(raw) as Partial<Session>
    if (typeof s.token !== 'string' || !s.principal || !Array.isArray(s.principal.permissions)) {
      return null
    }
    return s as Session
  } catch {
    return null
  }
}

function rolePermissions(role: string): Permission[] {
  return role === 'admin' ? ['admin'] : ['read']
}

/** Combines what the login answered with what `/v1/auth/me` said (the latter wins). */
export function principalFrom(
  login: SignIn,
  kind: Principal['kind'],
  me: Me | null,
  probed: Permission[] | null = null,
): Principal {
  const role = me?.role ?? login.role ?? null
  const permissions =
    me?.permissions ?? login.permissions ?? probed ?? (role ? rolePermissions(role) : ['read'])
  return {
    kind: me?.kind ?? kind,
    username: me?.username ?? login.username ?? null,
    userId: me?.user_id ?? login.user_id ?? null,
    keyId: me?.key_id ?? login.key_id ?? null,
    role,
    permissions,
    organizationId: me?.organization_id ?? login.organization_id ?? null,
    expiresAt: login.expires_at ?? null,
  }
}

export const useAuthStore = defineStore('auth', () => {
  const saved = readSession()
  const token = ref<string | null>(saved?.token ?? null)
  const principal = ref<Principal | null>(saved?.principal ?? null)
  /** Why the last session ended (shown on the login page), if it did not end by choice. */
  const endedReason = ref<string | null>(null)

  const isLoggedIn = computed(() => token.value !== null && principal.value !== null)
  /** Whether the token is past its expiry (checked on navigation; the server's 401 covers the rest). */
  function isExpired(now: number = Date.now()): boolean {
    const exp = principal.value?.expiresAt
    return !!exp && Date.parse(exp) <= now
  }
  const isAdmin = computed(
    () => !!principal.value && principal.value.permissions.includes('admin'),
  )
  /**
   * The organization a non-admin key is confined to; `null` for admins and for users (whose read-only
   * view spans every organization).
   */
  const orgScope = computed(() =>
    isAdmin.value || principal.value?.kind === 'user' ? null : (principal.value?.organizationId ?? null),
  )
  const displayName = computed(() => principal.value?.username ?? null)

  /** `admin` implies everything and `write` implies `read`. */
  function can(p: Permission): boolean {
    const perms = principal.value?.permissions ?? []
    if (perms.includes('admin')) return true
    if (p === 'read') return perms.includes('read') || perms.includes('write')
    return perms.includes(p)
  }

  function persist(): void {
    if (token.value && principal.value) {
      sessionStorage.setItem(
        SESSION_KEY,
        JSON.stringify({ token: token.value, principal: principal.value } satisfies Session),
      )
    } else {
      sessionStorage.removeItem(SESSION_KEY)
    }
  }

  async function establish(login: SignIn, kind: Principal['kind']): Promise<void> {
    const me = await authApi.whoAmI(login.token)
    const known = me !== null || login.permissions !== undefined || !!login.role
    const probed = known ? null : await authApi.probePermissions(login.token)
    token.value = login.token
    principal.value = principalFrom(login, kind, me, probed)
    endedReason.value = null
    persist()
  }

  async function loginWithPassword(username: string, password: string): Promise<void> {
    await establish(await authApi.loginWithPassword(username, password), 'user')
  }

  async function loginWithKey(apiKey: string): Promise<void> {
    await establish(await authApi.loginWithKey(apiKey.trim()), 'key')
  }

  /** Ends the session. `reason` is given when it ended by itself (401: expired, revoked). */
  function logout(reason: string | null = null): void {
    token.value = null
    principal.value = null
    endedReason.value = reason
    persist()
  }

  return {
    token,
    principal,
    endedReason,
    isLoggedIn,
    isExpired,
    isAdmin,
    orgScope,
    displayName,
    can,
    loginWithPassword,
    loginWithKey,
    logout,
  }
})
