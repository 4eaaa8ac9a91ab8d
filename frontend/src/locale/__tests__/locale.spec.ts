import { afterEach, describe, expect, it } from 'vitest'

import { detectLocale, messages, setLocale, t } from '..'

afterEach(() => setLocale('en-US'))

describe('i18n', () => {
  it('has every string in both languages', () => {
    const en = Object.keys(messages['en-US']).sort()
    const zh = Object.keys(messages['zh-CN']).sort()
    expect(en.filter((k) => !zh.includes(k))).toEqual([])
    expect(zh.filter((k) => !en.includes(k))).toEqual([])
    expect(en.length).toBeGreaterThan(200)
  })

  it('fills placeholders and switches language', () => {
    expect(t('common.total', { n: 3 })).toBe('3 in total')
    setLocale('zh-CN')
    expect(t('common.total', { n: 3 })).toBe('共 3 条')
    expect(document.documentElement.lang).toBe('zh-CN')
  })

  it('shows an unknown key as itself', () => {
    expect(t('no.such.key')).toBe('no.such.key')
  })

  it('starts in the saved language, else the browser language', () => {
    expect(detectLocale('zh-CN', ['en-US'])).toBe('zh-CN')
    expect(detectLocale(null, ['zh-TW', 'en'])).toBe('zh-CN')
    expect(detectLocale(null, ['en-GB'])).toBe('en-US')
    expect(detectLocale(null, ['fr-FR', 'de'])).toBe('en-US')
    expect(detectLocale('xx', ['zh'])).toBe('zh-CN')
  })
})
