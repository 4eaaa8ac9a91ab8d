import { describe, expect, it } from 'vitest'

import {
  EMPTY,
  formatDate,
  formatDateTime,
  formatDuration,
  formatInteger,
  formatMoney,
  formatPercent,
  formatTime,
  formatTokens,
  lastDays,
  usageRatio,
} from '../format'

describe('formatMoney', () => {
  it('shows dollars with cents', () => {
    expect(formatMoney(1234.5)).toBe('$1,234.50')
    expect(formatMoney(0)).toBe('$0.00')
    expect(formatMoney(0.5)).toBe('$0.50')
  })

  it('keeps sub-cent amounts visible instead of rounding them to $0.00', () => {
    expect(formatMoney(0.000123)).toBe('$0.000123')
    expect(formatMoney(0.0042)).toBe('$0.0042')
    expect(formatMoney(0.0000001)).toBe('$0.00')
  })

  it('formats for the Chinese locale too', () => {
    expect(formatMoney(12.3, 'zh-CN')).toBe('$12.30')
  })

  it('renders missing values as a dash', () => {
    expect(formatMoney(null)).toBe(EMPTY)
    expect(formatMoney(undefined)).toBe(EMPTY)
    expect(formatMoney(Number.NaN)).toBe(EMPTY)
  })
})

describe('token and number formatting', () => {
  it('groups small counts and compacts large ones', () => {
    expect(formatTokens(950)).toBe('950')
    expect(formatTokens(9999)).toBe('9,999')
    expect(formatTokens(12_345)).toBe('12.3K')
    expect(formatTokens(4_200_000)).toBe('4.2M')
    expect(formatTokens(4_200_000, 'zh-CN')).toBe('420万')
    expect(formatTokens(null)).toBe(EMPTY)
  })

  it('formats integers and percentages', () => {
    expect(formatInteger(1234567)).toBe('1,234,567')
    expect(formatPercent(0.125)).toBe('12.5%')
    expect(formatPercent(null)).toBe(EMPTY)
  })

  it('formats durations from milliseconds', () => {
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(1234)).toBe('1.23 s')
    expect(formatDuration(12_345)).toBe('12.3 s')
    expect(formatDuration(75_000)).toBe('1m 15s')
    expect(formatDuration(null)).toBe(EMPTY)
  })
})

describe('dates', () => {
  it('formats timestamps in a given time zone', () => {
    expect(formatDateTime('2026-11-27T03:54:02Z', 'en-US', 'UTC')).toBe('11/27/2026, 03:54:02')
    expect(formatDateTime('2026-11-27T03:54:02Z', 'zh-CN', 'Asia/Shanghai')).toBe('2026/11/27 11:54:02')
    expect(formatDateTime('2026-11-27T03:54:02Z', 'en-US', 'UTC', false)).toBe('11/27/2026, 03:54')
    expect(formatDate('2026-11-27T03:54:02Z', 'en-US', 'UTC')).toBe('11/27/2026')
  })

  it('formats the time of day on a 24-hour clock', () => {
    expect(formatTime('2026-11-27T15:04:09Z', 'en-US', 'UTC')).toBe('15:04:09')
    expect(formatTime('2026-11-27T03:04:09Z', 'zh-CN', 'UTC')).toBe('03:04:09')
    expect(formatTime(null)).toBe(EMPTY)
  })

  it('renders missing and invalid dates as a dash', () => {
    expect(formatDateTime(null)).toBe(EMPTY)
    expect(formatDateTime('')).toBe(EMPTY)
    expect(formatDateTime('not a date')).toBe(EMPTY)
  })

  it('computes inclusive UTC day ranges for the presets', () => {
    const now = new Date('2026-11-27T23:30:00Z')
    expect(lastDays(7, now)).toEqual({ start: '2026-11-21', end: '2026-11-27' })
    expect(lastDays(30, now)).toEqual({ start: '2026-10-29', end: '2026-11-27' })
    expect(lastDays(90, new Date('2026-03-01T00:10:00Z'))).toEqual({ start: '2025-12-02', end: '2026-03-01' })
  })
})

describe('usageRatio', () => {
  it('is null without a limit and capped at 1', () => {
    expect(usageRatio(50, null)).toBeNull()
    expect(usageRatio(50, 200)).toBe(0.25)
    expect(usageRatio(300, 200)).toBe(1)
    expect(usageRatio(undefined, 200)).toBe(0)
    expect(usageRatio(0, 0)).toBe(1)
  })
})
