// Sign-in. `POST /v1/admin/login` (username + password) and `POST /v1/auth/key-login` (an API key) both
// answer with a JWT; `GET /v1/auth/me` says who that token is and what it may do.

import { ApiError, http } from './http'
import type { Permission, Schemas } from './types'

/** What `POST /v1/admin/login` answers (password). */
export type LoginResponse = Schemas['LoginResponse']
/** What `POST /v1/auth/key-login` answers (API key): the key, its permissions and organization. */
export type KeyLoginResponse = Schemas['KeyLoginResponse']
/**
 * What a sign-in gives the session: either answer, or only `token` (a server without key login, where the
 * key itself is the bearer token).
 */
export type SignIn = { token: string } & Partial<LoginResponse & KeyLoginResponse>

/** Who the current token belongs to; `kind` is `user`, `key` or `bootstrap` (the GAIA_ADMIN_KEY). */
export type Me = Schemas['Me']

export function loginWithPassword(username: string, password: string): Promise<LoginResponse> {
  return http.post<LoginResponse>(
    '/v1/admin/login',
    { username, password },
    { skipAuthRedirect: true },
  )
}

export async function loginWithKey(apiKey: string): Promise<SignIn> {
  try {
    return await http.post<KeyLoginResponse>(
      '/v1/auth/key-login',
      { api_key: apiKey },
      { skipAuthRedirect: true },
    )
  } catch (e) {
    // Until the key-login endpoint ships, the key itself is the bearer token (every /v1 endpoint accepts
    // it); its permissions are then learnt from /v1/auth/me or, failing that, probed.
    if (e instanceof ApiError && (e.code === 'unknown_route' || e.status === 404 || e.status === 405)) {
      return { token: apiKey }
    }
    throw e
  }
}

/** `GET /v1/auth/me` for `token`; `null` when the server has no such endpoint yet. */
export async function whoAmI(token: string): Promise<Me | null> {
  try {
    return await http.get<Me>('/v1/auth/me', undefined, {
      headers: { Authorization: `Bearer ${token}` },
      skipAuthRedirect: true,
    })
  } catch (e) {
    if (e instanceof ApiError && (e.code === 'unknown_route' || e.status === 404)) return null
    throw e
  }
}

/**
 * For servers without `/v1/auth/me`: a token that may list the admin model registry is an admin; any
 * other token that authenticates is treated as read-only.
 */
export async function probePermissions(token: string): Promise<Permission[]> {
  try {
    await http.get('/v1/admin/models', { limit: 1 }, {
      headers: { Authorization: `Bearer ${token}` },
      skipAuthRedirect: true,
    })
    return ['admin']
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return ['read']
    throw e
  }
}
