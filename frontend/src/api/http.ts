// The one HTTP client of the UI. Its interceptors attach the bearer token, turn every failure (the
// OpenAI error envelope, a proxy's HTML page, a network error, a timeout) into an `ApiError` with one
// readable message, and report a 401 so the session ends. `get<T>()` resolves to the body, typed `T`.
//
// The token and the reactions to failures are injected by `configureHttp` (wired in main.ts) so this
// module does not import the auth store (the store imports the API modules).

import axios, { AxiosError, type AxiosRequestConfig, type AxiosResponse } from 'axios'

import { t } from '@/locale'

import type { ErrorEnvelope } from './types'

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Keep a 401 from ending the session (the login forms expect 401 for wrong credentials). */
    skipAuthRedirect?: boolean
  }
}

export class ApiError extends Error {
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number
  /** The envelope's machine-readable code (`invalid_api_key`, …), or a local one (`network_error`). */
  readonly code: string | null
  readonly type: string | null
  /** The request field at fault. */
  readonly param: string | null

  constructor(
    message: string,
    status: number,
    code: string | null = null,
    type: string | null = null,
    param: string | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.type = type
    this.param = param
  }
}

export interface HttpHooks {
  /** The current bearer token, if signed in. */
  getToken: () => string | null
  /** Called once per 401 response (the session is over: expired token, revoked key). */
  onUnauthorized: (error: ApiError) => void
}

const hooks: HttpHooks = {
  getToken: () => null,
  onUnauthorized: () => {},
}

export function configureHttp(h: Partial<HttpHooks>): void {
  Object.assign(hooks, h)
}

/** An error envelope as far as `isErrorEnvelope` checks it: a proxy's or an older server's may lack the rest. */
type EnvelopeLike = { error: Pick<ErrorEnvelope['error'], 'message'> & Partial<ErrorEnvelope['error']> }

export function isErrorEnvelope(body: unknown): body is EnvelopeLike {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false
  const err = (body as { error: unknown }).error
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { message?: unknown }).message === 'string'
  )
}

const KNOWN_STATUSES = [400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504]

/** A readable sentence for a status whose body said nothing useful. */
export function statusText(status: number): string {
  return KNOWN_STATUSES.includes(status) ? t(`http.${status}`) : t('http.other', { status })
}

/** Turns an error envelope (or anything else a server may send) into an `ApiError`. */
export function errorFromBody(status: number, body: unknown): ApiError {
  if (isErrorEnvelope(body)) {
    const e = body.error
    return new ApiError(e.message, status, e.code ?? null, e.type ?? null, e.param ?? null)
  }
  if (typeof body === 'string' && body.trim().startsWith('{')) {
    try {
      return errorFromBody(status, JSON.parse(body))
    } catch {
      // Not JSON after all: fall through to the status text.
    }
  }
  return new ApiError(statusText(status), status, null, null, null)
}

/** Maps whatever axios rejected with to an `ApiError`. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (axios.isCancel(error)) return new ApiError(t('http.cancelled'), 0, 'cancelled')
  if (error instanceof AxiosError) {
    if (error.response) return errorFromBody(error.response.status, error.response.data)
    if (error.code === AxiosError.ECONNABORTED || error.code === AxiosError.ETIMEDOUT) {
      return new ApiError(t('http.timeout'), 0, 'timeout')
    }
    return new ApiError(t('http.network'), 0, 'network_error')
  }
  if (error instanceof Error) return new ApiError(error.message, 0, 'client_error')
  return new ApiError(String(error), 0, 'client_error')
}

export const client = axios.create({
  baseURL: '/',
  timeout: 60_000,
  headers: { Accept: 'application/json' },
})

client.interceptors.request.use((config) => {
  const token = hooks.getToken()
  if (token && !config.headers.has('Authorization')) {
    config.headers.set('Authorization', `Bearer ${token}`)
  }
  return config
})

client.interceptors.response.use(
  (response) => response,
  async (error: unknown) => {
    let apiError = toApiError(error)
    // A CSV/blob request gets its error body as a Blob; read it so the message is the server's.
    if (error instanceof AxiosError && error.response?.data instanceof Blob) {
      const text = await error.response.data.text()
      apiError = errorFromBody(error.response.status, text)
    }
    const skip = error instanceof AxiosError && error.config?.skipAuthRedirect === true
    if (apiError.status === 401 && !skip) hooks.onUnauthorized(apiError)
    return Promise.reject(apiError)
  },
)

export type RequestOptions = Omit<AxiosRequestConfig, 'url' | 'method' | 'data' | 'params'>

async function request<T>(config: AxiosRequestConfig): Promise<T> {
  try {
    const res: AxiosResponse<T> = await client.request<T>(config)
    return res.data
  } catch (e) {
    throw toApiError(e)
  }
}

export const http = {
  get<T>(url: string, params?: object, options?: RequestOptions): Promise<T> {
    return request<T>({ ...options, method: 'GET', url, params })
  },
  post<T>(url: string, data?: unknown, options?: RequestOptions): Promise<T> {
    return request<T>({ ...options, method: 'POST', url, data })
  },
  put<T>(url: string, data?: unknown, options?: RequestOptions): Promise<T> {
    return request<T>({ ...options, method: 'PUT', url, data })
  },
  patch<T>(url: string, data?: unknown, options?: RequestOptions): Promise<T> {
    return request<T>({ ...options, method: 'PATCH', url, data })
  },
  delete<T>(url: string, options?: RequestOptions): Promise<T> {
    return request<T>({ ...options, method: 'DELETE', url })
  },
  /** A file download (CSV export): the body as a Blob and the server's file name, if it sent one. */
  async download(url: string, params?: object): Promise<{ blob: Blob; filename: string | null }> {
    try {
      const res = await client.request<Blob>({ method: 'GET', url, params, responseType: 'blob' })
      const cd = String(res.headers['content-disposition'] ?? '')
      const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd)
      return { blob: res.data, filename: m?.[1] ? decodeURIComponent(m[1]) : null }
    } catch (e) {
      throw toApiError(e)
    }
  },
}

/** The message to show for any thrown value. */
export function errorMessage(e: unknown): string {
  return toApiError(e).message
}
