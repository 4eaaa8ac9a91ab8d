// Server-Sent Events parsing for the playground's streamed chat completions (fetch + ReadableStream).
// EventSource cannot POST or send an Authorization header, so the stream is parsed by hand, following
// the WHATWG event-stream rules: lines end in LF, CRLF or CR; `data:` lines of one event are joined with
// "\n"; an empty line dispatches; lines starting with ':' are comments; a leading space after the colon
// is dropped. Chunks may split anywhere, even inside a CRLF or a multi-byte character.

export interface SseEvent {
  event: string
  data: string
  id?: string
}

export class SseParser {
  private buffer = ''
  private data: string[] = []
  private eventName = ''
  private lastId: string | undefined
  private pendingCR = false

  /** Feeds decoded text; returns the events completed by it. */
  feed(text: string): SseEvent[] {
    const out: SseEvent[] = []
    let input = text
    if (this.pendingCR) {
      // The previous chunk ended in CR; a LF right here belongs to the same line break.
      if (input.startsWith('\n')) input = input.slice(1)
      this.pendingCR = false
    }
    this.buffer += input
    let start = 0
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i]
      if (ch !== '\n' && ch !== '\r') continue
      const line = this.buffer.slice(start, i)
      if (ch === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++
        } else {
          this.pendingCR = true
        }
      }
      start = i + 1
      this.line(line, out)
    }
    this.buffer = this.buffer.slice(start)
    return out
  }

  /** Ends the stream: a final event without its blank line is still dispatched. */
  flush(): SseEvent[] {
    const out: SseEvent[] = []
    if (this.buffer.length > 0) {
      this.line(this.buffer, out)
      this.buffer = ''
    }
    this.line('', out)
    return out
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        const ev: SseEvent = { event: this.eventName || 'message', data: this.data.join('\n') }
        if (this.lastId !== undefined) ev.id = this.lastId
        out.push(ev)
      }
      this.data = []
      this.eventName = ''
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'data':
        this.data.push(value)
        break
      case 'event':
        this.eventName = value
        break
      case 'id':
        if (!value.includes('\0')) this.lastId = value
        break
      default:
        // `retry` and unknown fields do not matter here.
        break
    }
  }
}

/** Reads a byte stream to the end and yields its SSE events as they complete. */
export async function* readSse(stream: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  const parser = new SseParser()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      yield* parser.feed(decoder.decode(value, { stream: true }))
    }
    yield* parser.feed(decoder.decode())
    yield* parser.flush()
  } finally {
    reader.releaseLock()
  }
}
