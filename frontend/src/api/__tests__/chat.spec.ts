import { describe, expect, it, vi } from 'vitest'

import { streamChat } from '../chat'
import { ApiError } from '../http'

function sseResponse(chunks: string[], init: ResponseInit = {}): Response {
  const enc = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch))
      c.close()
    },
  })
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'x-gaia-provider': 'openai' },
    ...init,
  })
}

const chunk = (content: string | null, extra: object = {}) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: null }], ...extra })}\n\n`

describe('streamChat', () => {
  it('hands out each delta as it arrives and collects usage and timings', async () => {
    const fetchImpl = vi.fn().mockResolvedValue(
      sseResponse([
        chunk(null),
        chunk('Hel'),
        chunk('lo') + 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
        'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}\n\n',
        'data: [DONE]\n\n',
      ]),
    )
    let clock = 1000
    const now = () => (clock += 10)
    const deltas: string[] = []

    const result = await streamChat(
      { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      'tok',
      { onDelta: (d) => deltas.push(d), fetchImpl, now },
    )

    expect(deltas).toEqual(['Hel', 'lo'])
    expect(result.content).toBe('Hello')
    expect(result.finishReason).toBe('stop')
    expect(result.usage).toEqual({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 })
    expect(result.provider).toBe('openai')
    expect(result.ttftMs).toBe(10)
    expect(result.totalMs).toBeGreaterThan(result.ttftMs ?? 0)

    const [url, init] = fetchImpl.mock.calls[0] as [string, RequestInit]
    expect(url).toBe('/v1/chat/completions')
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok')
    expect(JSON.parse(init.body as string)).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  it('turns an error event inside the stream into an ApiError', async () => {
    const fetchImpl = vi.fn().mockResolvedValue(
      sseResponse([
        chunk('partial'),
        'data: {"error":{"message":"upstream closed the stream","type":"api_error","code":"upstream_error","param":null}}\n\n',
      ]),
    )
    await expect(
      streamChat({ model: 'm', messages: [] }, 't', { onDelta: () => {}, fetchImpl }),
    ).rejects.toMatchObject({ message: 'upstream closed the stream', code: 'upstream_error' })
  })

  it('reports an HTTP error with the envelope message', async () => {
    const fetchImpl = vi.fn().mockResolvedValue(
      new Response(
        '{"error":{"message":"the model \'x\' is not available on this gateway","type":"invalid_request_error","code":"model_not_found","param":"model"}}',
        { status: 404, headers: { 'content-type': 'application/json' } },
      ),
    )
    const p = streamChat({ model: 'x', messages: [] }, 't', { onDelta: () => {}, fetchImpl })
    await expect(p).rejects.toBeInstanceOf(ApiError)
    await expect(p).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
  })
})
