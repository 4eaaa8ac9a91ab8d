import { describe, expect, it } from 'vitest'

import { readSse, SseParser } from '../sse'

function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder()
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(typeof ch === 'string' ? enc.encode(ch) : ch)
      c.close()
    },
  })
}

async function collect(s: ReadableStream<Uint8Array>) {
  const out = []
  for await (const ev of readSse(s)) out.push(ev)
  return out
}

describe('SseParser', () => {
  it('dispatches an event at each blank line', () => {
    const p = new SseParser()
    expect(p.feed('data: {"a":1}\n\ndata: {"b":2}\n\n')).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'message', data: '{"b":2}' },
    ])
  })

  it('joins multi-line data and keeps event names and ids', () => {
    const p = new SseParser()
    expect(p.feed('event: error\nid: 7\ndata: line one\ndata: line two\n\n')).toEqual([
      { event: 'error', data: 'line one\nline two', id: '7' },
    ])
  })

  it('skips comments and drops only one leading space', () => {
    const p = new SseParser()
    expect(p.feed(': keep-alive\n\ndata:  two spaces\ndata:none\n\n')).toEqual([
      { event: 'message', data: ' two spaces\nnone' },
    ])
  })

  it('reassembles events split across chunks at any point', () => {
    const text = 'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\ndata: {"choices":[{"delta":{"content":"lo"}}]}\n\ndata: [DONE]\n\n'
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser()
      const events = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut)), ...p.flush()]
      expect(events.map((e) => e.data)).toEqual([
        '{"choices":[{"delta":{"content":"Hel"}}]}',
        '{"choices":[{"delta":{"content":"lo"}}]}',
        '[DONE]',
      ])
    }
  })

  it('accepts CRLF and CR line endings, even with CRLF split between chunks', () => {
    const p = new SseParser()
    const events = [...p.feed('data: a\r'), ...p.feed('\n\r'), ...p.feed('\ndata: b\r\r')]
    expect(events.map((e) => e.data)).toEqual(['a', 'b'])
  })

  it('dispatches a last event that lacks its blank line on flush', () => {
    const p = new SseParser()
    expect(p.feed('data: tail')).toEqual([])
    expect(p.flush()).toEqual([{ event: 'message', data: 'tail' }])
  })
})

describe('readSse', () => {
  it('decodes multi-byte characters split between network chunks', async () => {
    const bytes = new TextEncoder().encode('data: 你好\n\n')
    const events = await collect(streamOf(bytes.slice(0, 8), bytes.slice(8)))
    expect(events).toEqual([{ event: 'message', data: '你好' }])
  })
})
