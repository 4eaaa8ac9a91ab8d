// Display formatting for money (USD), token counts, durations and dates. Pure functions: every one takes
// the UI locale so tests can pin it, and every one renders a missing value as an em dash.

export const EMPTY = '—'

type Num = number | null | undefined

function isNum(v: Num): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

/**
 * US dollars. Amounts of a cent or more get 2 decimals; smaller non-zero amounts (a single request often
 * costs a fraction of a cent) keep up to 6 decimals so they do not read as $0.00.
 */
export function formatMoney(usd: Num, locale = 'en-US'): string {
  if (!isNum(usd)) return EMPTY
  const abs = Math.abs(usd)
  const small = abs > 0 && abs < 0.01
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: 'USD',
    // "$" in every locale (zh-CN would otherwise write "US$").
    currencyDisplay: 'narrowSymbol',
    minimumFractionDigits: 2,
    maximumFractionDigits: small ? 6 : 2,
  }).format(usd)
}

/** A plain integer with grouping: 1234567 → "1,234,567". */
export function formatInteger(n: Num, locale = 'en-US'): string {
  if (!isNum(n)) return EMPTY
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n)
}

/** Token counts, compact above ten thousand: 950 → "950", 12_345 → "12.3K", 4_200_000 → "4.2M". */
export function formatTokens(n: Num, locale = 'en-US'): string {
  if (!isNum(n)) return EMPTY
  if (Math.abs(n) < 10_000) return formatInteger(n, locale)
  return new Intl.NumberFormat(locale, {
    notation: 'compact',
    maximumFractionDigits: 1,
  }).format(n)
}

/** A ratio (0.125) as a percentage ("12.5%"). */
export function formatPercent(ratio: Num, locale = 'en-US', digits = 1): string {
  if (!isNum(ratio)) return EMPTY
  return new Intl.NumberFormat(locale, {
    style: 'percent',
    maximumFractionDigits: digits,
  }).format(ratio)
}

/** Milliseconds: 850 → "850 ms", 1234 → "1.23 s", 75_000 → "1m 15s". */
export function formatDuration(ms: Num): string {
  if (!isNum(ms)) return EMPTY
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const m = Math.floor(ms / 60_000)
  const s = Math.round((ms % 60_000) / 1000)
  return `${m}m ${s}s`
}

type When = string | number | Date | null | undefined

const DAY = { year: 'numeric', month: '2-digit', day: '2-digit' } as const
const CLOCK = { hour: '2-digit', minute: '2-digit', hour12: false } as const

/** `value` written by `Intl.DateTimeFormat` with `options`; missing or not a date: the em dash. */
function formatWhen(value: When, locale: string, options: Intl.DateTimeFormatOptions): string {
  if (value === null || value === undefined || value === '') return EMPTY
  const d = value instanceof Date ? value : new Date(value)
  return Number.isNaN(d.getTime()) ? EMPTY : new Intl.DateTimeFormat(locale, options).format(d)
}

/**
 * A timestamp in the viewer's time zone (or `timeZone`), e.g. "11/27/2026, 09:54:02"; tables pass
 * `seconds = false` for a narrower column.
 */
export function formatDateTime(value: When, locale = 'en-US', timeZone?: string, seconds = true): string {
  return formatWhen(value, locale, { ...DAY, ...CLOCK, second: seconds ? '2-digit' : undefined, timeZone })
}

/** A calendar date, e.g. "2026-11-27" / "11/27/2026" depending on the locale. */
export function formatDate(value: When, locale = 'en-US', timeZone?: string): string {
  return formatWhen(value, locale, { ...DAY, timeZone })
}

/** The time of day, e.g. "09:54:02" (24-hour clock in every locale). */
export function formatTime(value: When, locale = 'en-US', timeZone?: string): string {
  return formatWhen(value, locale, { ...CLOCK, second: '2-digit', timeZone })
}

/** `YYYY-MM-DD` of a date in UTC (the statistics API counts days in UTC). */
export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10)
}

export interface DayRange {
  start: string
  end: string
}

/** The last `days` UTC days ending today (inclusive): 7 → today and the 6 days before. */
export function lastDays(days: number, now: Date = new Date()): DayRange {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
  const start = new Date(end)
  start.setUTCDate(start.getUTCDate() - (days - 1))
  return { start: isoDay(start), end: isoDay(end) }
}

/**
 * How much of a limit is used, as a percentage 0–100 for a progress bar (capped at 100), or `null` when
 * there is no limit. A zero limit counts as fully used.
 */
export function usageRatio(used: Num, limit: Num): number | null {
  if (!isNum(limit)) return null
  const u = isNum(used) ? used : 0
  if (limit <= 0) return 1
  return Math.min(1, Math.max(0, u / limit))
}
