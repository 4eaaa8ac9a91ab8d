import { AxiosError, AxiosHeaders, type AxiosAdapter } from 'axios'
import { afterEach, describe, expect, it } from 'vitest'

import { loginWithKey, probePermissions, whoAmI } from '../auth'
import { client } from '../http'

type Route = (url: string, method: string, auth: string | undefined) => [number, unknown]

function server(route: Route): AxiosAdapter {
  return async (config) => {
    const [status, data] = route(config.url ?? '', (config.method ?? 'get').toUpperCase(), config.headers.get('Authorization') as string | undefined)
    const response = { data, status, statusText: '', headers: new AxiosHeaders(), config }
    if (status < 300) return response
    throw new AxiosError('failed', 'ERR_BAD_RESPONSE', config, {}, response)
  }
}

const unknownRoute = (url: string): [number, unknown] => [
  404,
  { error: { message: `no route for ${url}`, type: 'invalid_request_error', code: 'unknown_route', param: null } },
]

const original = client.defaults.adapter
afterEach(() => {
  client.defaults.adapter = original
})

describe('key login', () => {
  it('exchanges the key for a token where the server supports it', async () => {
    client.defaults.adapter = server((url) =>
      url === '/v1/auth/key-login' ? [200, { token: 'jwt', permissions: ['read'], organization_id: 'o1' }] : unknownRoute(url),
    )
    expect(await loginWithKey('gaia_x_y')).toEqual({ token: 'jwt', permissions: ['read'], organization_id: 'o1' })
  })

  it('uses the key itself as the bearer token on servers without key login', async () => {
    client.defaults.adapter = server((url) => unknownRoute(url))
    expect(await loginWithKey('gaia_x_y')).toEqual({ token: 'gaia_x_y' })
  })

  it('passes on a refused key', async () => {
    client.defaults.adapter = server(() => [401, { error: { message: 'invalid API key', type: 'authentication_error', code: 'invalid_api_key', param: null } }])
    await expect(loginWithKey('bad')).rejects.toMatchObject({ status: 401, message: 'invalid API key' })
  })
})

describe('who am I', () => {
  it('asks /v1/auth/me with the given token', async () => {
    let seen: string | undefined
    client.defaults.adapter = server((url, _m, auth) => {
      seen = auth
      return url === '/v1/auth/me' ? [200, { kind: 'key', permissions: ['write'] }] : unknownRoute(url)
    })
    expect(await whoAmI('tok')).toEqual({ kind: 'key', permissions: ['write'] })
    expect(seen).toBe('Bearer tok')
  })

  it('answers null when the server has no such endpoint', async () => {
    client.defaults.adapter = server((url) => unknownRoute(url))
    expect(await whoAmI('tok')).toBeNull()
  })

  it('probes: admin when the registry answers, read when it is forbidden', async () => {
    client.defaults.adapter = server(() => [200, { data: [], pagination: {} }])
    expect(await probePermissions('t')).toEqual(['admin'])
    client.defaults.adapter = server(() => [403, { error: { message: 'this endpoint needs the admin permission', type: 'permission_error', code: 'permission_denied', param: null } }])
    expect(await probePermissions('t')).toEqual(['read'])
  })
})
