// The playground's calls to `POST /v1/chat/completions`. Streaming uses fetch + ReadableStream (axios in
// the browser cannot hand out a body stream) and the SSE parser of utils/sse.ts.

import { readSse } from '@/utils/sse'

import { ApiError, errorFromBody } from './http'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatParams {
  model: string
  messages: ChatMessage[]
  temperature?: number
  max_tokens?: number
}

export interface ChatUsage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}

export interface ChatResult {
  content: string
  usage: ChatUsage | null
  finishReason: string | null
  /** Milliseconds from sending to the first content token (streams) and to the end. */
  ttftMs: number | null
  totalMs: number
  /** The provider that served it (`x-gaia-provider`). */
  provider: string | null
}

interface ChunkChoice {
  delta?: { content?: string | null }
  finish_reason?: string | null
}

interface ChatChunk {
  choices?: ChunkChoice[]
  usage?: ChatUsage | null
}

export interface StreamHandlers {
  onDelta: (text: string) => void
  signal?: AbortSignal
  /** Injected in tests. */
  fetchImpl?: typeof fetch
  now?: () => number
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '')
  return errorFromBody(res.status, text)
}

/**
 * Streams a completion, calling `onDelta` for each piece of content as it arrives. Asks for usage in the
 * final chunk (`stream_options.include_usage`). An error event inside the stream becomes an `ApiError`.
 */
export async function streamChat(
  params: ChatParams,
  token: string,
  handlers: StreamHandlers,
): Promise<ChatResult> {
  const doFetch = handlers.fetchImpl ?? fetch
  const now = handlers.now ?? (() => performance.now())
  const started = now()
  const res = await doFetch('/v1/chat/completions', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
      Authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ ...params, stream: true, stream_options: { include_usage: true } }),
    signal: handlers.signal,
  })
  if (!res.ok) throw await failure(res)
  if (!res.body) throw new ApiError('The server sent no response body', res.status, 'empty_body')

  const result: ChatResult = {
    content: '',
    usage: null,
    finishReason: null,
    ttftMs: null,
    totalMs: 0,
    provider: res.headers.get('x-gaia-provider'),
  }
  for await (const ev of readSse(res.body)) {
    if (ev.data === '[DONE]') break
    let chunk: ChatChunk & { error?: unknown }
    try {
      chunk = JSON.parse(ev.data) as ChatChunk & { error?: unknown }
    } catch {
      continue // Not JSON: a keep-alive or something we do not understand.
    }
    if (chunk.error !== undefined) throw errorFromBody(502, chunk)
    for (const choice of chunk.choices ?? []) {
      const text = choice.delta?.content
      if (text) {
        if (result.ttftMs === null) result.ttftMs = now() - started
        result.content += text
        handlers.onDelta(text)
      }
      if (choice.finish_reason) result.finishReason = choice.finish_reason
    }
    if (chunk.usage) result.usage = chunk.usage
  }
  result.totalMs = now() - started
  return result
}

/** A non-streamed completion (the playground's "stream" switch off). */
export async function completeChat(
  params: ChatParams,
  token: string,
  opts: { signal?: AbortSignal; fetchImpl?: typeof fetch; now?: () => number } = {},
): Promise<ChatResult> {
  const doFetch = opts.fetchImpl ?? fetch
  const now = opts.now ?? (() => performance.now())
  const started = now()
  const res = await doFetch('/v1/chat/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ ...params, stream: false }),
    signal: opts.signal,
  })
  if (!res.ok) throw await failure(res)
  const body = (await res.json()) as {
    choices?: { message?: { content?: string | null }; finish_reason?: string | null }[]
    usage?: ChatUsage
  }
  const choice = body.choices?.[0]
  const totalMs = now() - started
  return {
    content: choice?.message?.content ?? '',
    usage: body.usage ?? null,
    finishReason: choice?.finish_reason ?? null,
    ttftMs: null,
    totalMs,
    provider: res.headers.get('x-gaia-provider'),
  }
}
