import { describe, expect, it } from 'vitest'

import { messages } from '@/locale'

import { attemptsView } from '../log'

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
