import { AxiosError, AxiosHeaders, type AxiosAdapter, type InternalAxiosRequestConfig } from 'axios'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { setLocale } from '@/locale'

import { ApiError, client, configureHttp, errorFromBody, http, toApiError } from '../http'

/** An adapter answering every request with `status` and `body` (axios rejects non-2xx itself). */
function answer(status: number, body: unknown, seen: InternalAxiosRequestConfig[] = []): AxiosAdapter {
  return async (config) => {
    seen.push(config)
    const response = {
      data: body,
      status,
      statusText: '',
      headers: new AxiosHeaders({ 'content-type': 'application/json' }),
      config,
    }
    if (status >= 200 && status < 300) return response
    throw new AxiosError(`Request failed with status code ${status}`, 'ERR_BAD_RESPONSE', config, {}, response)
  }
}

const originalAdapter = client.defaults.adapter

beforeEach(() => setLocale('en-US'))
afterEach(() => {
  client.defaults.adapter = originalAdapter
  configureHttp({ getToken: () => null, onUnauthorized: () => {} })
})

describe('errorFromBody', () => {
  it('takes message, code, type and param from the OpenAI error envelope', () => {
    const e = errorFromBody(409, {
      error: { message: "an organization named 'x' already exists", type: 'invalid_request_error', code: 'conflict', param: 'name' },
    })
    expect(e).toBeInstanceOf(ApiError)
    expect(e.message).toBe("an organization named 'x' already exists")
    expect(e).toMatchObject({ status: 409, code: 'conflict', type: 'invalid_request_error', param: 'name' })
  })

  it('parses an envelope that arrived as text (blob and fetch bodies)', () => {
    const e = errorFromBody(401, '{"error":{"message":"the API key was revoked","type":"authentication_error","code":"invalid_api_key","param":null}}')
    expect(e.message).toBe('the API key was revoked')
    expect(e.code).toBe('invalid_api_key')
  })

  it('never shows raw HTML or JSON of another shape: it falls back to a sentence for the status', () => {
    expect(errorFromBody(502, '<html><body>Bad Gateway</body></html>').message).toBe('The upstream provider failed')
    expect(errorFromBody(500, { detail: 'x' }).message).toBe('The server failed; its log has the details')
    expect(errorFromBody(418, '').message).toBe('The server answered with HTTP 418')
  })

  it('speaks the UI language for its own fallback messages', () => {
    setLocale('zh-CN')
    expect(errorFromBody(403, null).message).toBe('你没有权限执行此操作')
  })
})

describe('toApiError', () => {
  it('reports an unreachable server as a network error', () => {
    const e = toApiError(new AxiosError('Network Error', 'ERR_NETWORK'))
    expect(e).toMatchObject({ status: 0, code: 'network_error', message: 'Cannot reach the GaiaRouter server' })
  })

  it('reports a timeout', () => {
    expect(toApiError(new AxiosError('timeout', AxiosError.ECONNABORTED)).code).toBe('timeout')
  })

  it('passes an ApiError through unchanged', () => {
    const e = new ApiError('x', 400)
    expect(toApiError(e)).toBe(e)
  })
})

describe('the client', () => {
  it('resolves to the body and sends the bearer token', async () => {
    const seen: InternalAxiosRequestConfig[] = []
    client.defaults.adapter = answer(200, { data: [], pagination: { page: 1, limit: 20, total: 0, pages: 0 } }, seen)
    configureHttp({ getToken: () => 'tok-123' })
    const body = await http.get<{ data: unknown[] }>('/v1/organizations', { page: 1 })
    expect(body.data).toEqual([])
    expect(seen[0]?.headers.get('Authorization')).toBe('Bearer tok-123')
    expect(seen[0]?.params).toEqual({ page: 1 })
  })

  it('sends no Authorization header when signed out', async () => {
    const seen: InternalAxiosRequestConfig[] = []
    client.defaults.adapter = answer(200, {}, seen)
    await http.get('/health')
    expect(seen[0]?.headers.has('Authorization')).toBe(false)
  })

  it('rejects with the envelope message and ends the session on 401', async () => {
    const onUnauthorized = vi.fn()
    configureHttp({ getToken: () => 't', onUnauthorized })
    client.defaults.adapter = answer(401, { error: { message: 'the API key has expired', type: 'authentication_error', code: 'invalid_api_key', param: null } })
    await expect(http.get('/v1/api-keys')).rejects.toMatchObject({ status: 401, message: 'the API key has expired' })
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    expect(onUnauthorized.mock.calls[0]?.[0]).toBeInstanceOf(ApiError)
  })

  it('leaves the session alone on a 401 of a login form', async () => {
    const onUnauthorized = vi.fn()
    configureHttp({ onUnauthorized })
    client.defaults.adapter = answer(401, { error: { message: 'wrong username or password', type: 'authentication_error', code: 'invalid_credentials', param: null } })
    await expect(http.post('/v1/admin/login', {}, { skipAuthRedirect: true })).rejects.toThrow('wrong username or password')
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('does not end the session on 403', async () => {
    const onUnauthorized = vi.fn()
    configureHttp({ onUnauthorized })
    client.defaults.adapter = answer(403, { error: { message: 'this endpoint needs the admin permission', type: 'permission_error', code: 'permission_denied', param: null } })
    await expect(http.get('/v1/admin/models')).rejects.toMatchObject({ status: 403, code: 'permission_denied' })
    expect(onUnauthorized).not.toHaveBeenCalled()
  })

  it('keeps the message and the field of a refused key change (403), for the form to show', async () => {
    const message =
      'a key cannot loosen its own `monthly_requests_limit` (5); it may only tighten it — ask an administrator'
    client.defaults.adapter = answer(403, { error: { message, type: 'permission_error', code: 'permission_denied', param: 'monthly_requests_limit' } })
    await expect(http.patch('/v1/api-keys/k1', { monthly_requests_limit: null })).rejects.toMatchObject({
      status: 403,
      code: 'permission_denied',
      param: 'monthly_requests_limit',
      message,
    })
  })

  it('reads the error envelope of a failed CSV download', async () => {
    client.defaults.adapter = answer(400, new Blob(['{"error":{"message":"`end_date` is before `start_date`","type":"invalid_request_error","code":"invalid_request","param":"end_date"}}']))
    await expect(http.download('/v1/stats', { format: 'csv' })).rejects.toMatchObject({
      status: 400,
      param: 'end_date',
      message: '`end_date` is before `start_date`',
    })
  })

  it('returns the server file name of a download', async () => {
    client.defaults.adapter = async (config) => ({
      data: new Blob(['a,b\n1,2\n']),
      status: 200,
      statusText: 'OK',
      headers: new AxiosHeaders({ 'content-disposition': 'attachment; filename="stats-2026-11.csv"' }),
      config,
    })
    const { filename, blob } = await http.download('/v1/stats', { format: 'csv' })
    expect(filename).toBe('stats-2026-11.csv')
    expect(await blob.text()).toBe('a,b\n1,2\n')
  })
})
