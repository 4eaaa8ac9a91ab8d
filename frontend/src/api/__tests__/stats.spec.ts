import { AxiosHeaders, type AxiosAdapter } from 'axios'
import { afterEach, describe, expect, it } from 'vitest'

import { client } from '../http'
import { INBOUND_APIS, statsApi } from '../stats'

/** An axios adapter that records each request's URL as sent (query included) and answers `body`. */
function server(seen: string[], body: unknown, headers: Record<string, string> = {}): AxiosAdapter {
  return async (config) => {
    seen.push(client.getUri(config))
    return { data: body, status: 200, statusText: '', headers: new AxiosHeaders(headers), config }
  }
}

const original = client.defaults.adapter
afterEach(() => {
  client.defaults.adapter = original
})

const page = { data: [], pagination: { page: 1, limit: 20, total: 0, pages: 0 } }

describe('statsApi request log', () => {
  it('names the four inbound APIs the server filters on', () => {
    expect(INBOUND_APIS).toEqual(['chat.completions', 'messages', 'responses', 'embeddings'])
  })

  it('filters the log by inbound API with `api=`', async () => {
    const seen: string[] = []
    client.defaults.adapter = server(seen, page)
    await statsApi.requests({ api: 'chat.completions', status: 'error', page: 2, limit: 50 })
    const url = new URL(seen[0] ?? '', 'http://x')
    expect(url.pathname).toBe('/v1/requests')
    expect(url.searchParams.get('api')).toBe('chat.completions')
    expect(url.searchParams.get('status')).toBe('error')
    expect(url.searchParams.get('page')).toBe('2')
  })

  it('sends no `api` when the filter is unset', async () => {
    const seen: string[] = []
    client.defaults.adapter = server(seen, page)
    await statsApi.requests({ model: 'gpt-x' })
    expect(new URL(seen[0] ?? '', 'http://x').searchParams.has('api')).toBe(false)
  })

  it('exports the filtered log as CSV with the same `api`, every page', async () => {
    const seen: string[] = []
    client.defaults.adapter = server(seen, new Blob(['a,b\n']), {
      'content-disposition': 'attachment; filename="requests.csv"',
    })
    const { filename } = await statsApi.exportRequestsCsv({ api: 'messages', page: 3, limit: 20 })
    const q = new URL(seen[0] ?? '', 'http://x').searchParams
    expect(q.get('api')).toBe('messages')
    expect(q.get('format')).toBe('csv')
    expect(q.has('page')).toBe(false)
    expect(q.has('limit')).toBe(false)
    expect(filename).toBe('requests.csv')
  })
})
