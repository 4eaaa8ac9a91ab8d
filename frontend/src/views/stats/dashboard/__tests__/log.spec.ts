import { describe, expect, it } from 'vitest'

import { messages } from '@/locale'

import { apiLabel, attemptsView, tokenParts } from '../log'

describe('request log attempts', () => {
  it('shows the number of upstream calls and marks retries and fallbacks', () => {
    expect(attemptsView(1)).toEqual({ text: '1', help: 'stats.log.attemptsOne', retried: false })
    expect(attemptsView(3)).toEqual({ text: '3', help: 'stats.log.attemptsMany', retried: true })
  })

  it('tells a request refused before any call from an old record without the count', () => {
    expect(attemptsView(0)).toEqual({ text: '0', help: 'stats.log.attemptsNone', retried: false })
    expect(attemptsView(null)).toEqual({ text: '—', help: 'stats.log.attemptsUnknown', retried: false })
  })

  it('has an explanation for every case in both languages', () => {
    for (const n of [null, 0, 1, 2]) {
      const key = attemptsView(n).help
      expect(messages['en-US'][key]).toBeTruthy()
      expect(messages['zh-CN'][key]).toBeTruthy()
    }
  })
})

describe('request log API names', () => {
  it('names each inbound API, and shows one it does not know as it came', () => {
    expect(apiLabel('chat.completions')).toBe('Chat Completions')
    expect(apiLabel('messages')).toBe('Messages')
    expect(apiLabel('responses')).toBe('Responses')
    expect(apiLabel('embeddings')).toBe('Embeddings')
    expect(apiLabel('audio.speech')).toBe('audio.speech')
    expect(apiLabel('')).toBe('—')
  })
})

describe('token parts', () => {
  it('lists the cache reads, cache writes and reasoning that are not zero, in that order', () => {
    expect(tokenParts({ cached: 1000, cacheWrite: 100, reasoning: 200 })).toEqual([
      { label: 'stats.tokens.cached', n: 1000 },
      { label: 'stats.tokens.cacheWrite', n: 100 },
      { label: 'stats.tokens.reasoning', n: 200 },
    ])
    expect(tokenParts({ cached: 0, cacheWrite: 0, reasoning: 7 })).toEqual([{ label: 'stats.tokens.reasoning', n: 7 }])
    expect(tokenParts({ cached: 0, cacheWrite: null, reasoning: undefined })).toEqual([])
  })

  it('labels every part in both languages', () => {
    for (const { label } of tokenParts({ cached: 1, cacheWrite: 1, reasoning: 1 })) {
      expect(messages['en-US'][label]).toContain('{n}')
      expect(messages['zh-CN'][label]).toContain('{n}')
    }
  })
})
