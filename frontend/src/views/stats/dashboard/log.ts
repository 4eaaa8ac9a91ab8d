// Pure helpers of the request log's cells.

/** How the request log shows a record's upstream calls: the number, and which explanation goes with it. */
export interface AttemptsView {
  text: string
  /** Locale key of the tooltip. */
  help: 'stats.log.attemptsUnknown' | 'stats.log.attemptsNone' | 'stats.log.attemptsOne' | 'stats.log.attemptsMany'
  /** More than one call: a retry or a fallback happened. */
  retried: boolean
}

export function attemptsView(attempts: number | null | undefined): AttemptsView {
  if (attempts === null || attempts === undefined) return { text: '—', help: 'stats.log.attemptsUnknown', retried: false }
  if (attempts === 0) return { text: '0', help: 'stats.log.attemptsNone', retried: false }
  if (attempts === 1) return { text: '1', help: 'stats.log.attemptsOne', retried: false }
  return { text: String(attempts), help: 'stats.log.attemptsMany', retried: true }
}

/** How the request log names each inbound API (they are product names, the same in every language). */
const API_NAMES: Record<string, string> = {
  'chat.completions': 'Chat Completions',
  messages: 'Messages',
  responses: 'Responses',
  embeddings: 'Embeddings',
}

/** The name of the inbound API a request came in through; one this UI does not know reads as itself. */
export function apiLabel(api: string | null | undefined): string {
  if (!api) return '—'
  return API_NAMES[api] ?? api
}

/** The parts of some tokens a provider bills apart: prompt tokens read from / written to a cache, reasoning. */
export interface TokenSplit {
  cached: number | null | undefined
  cacheWrite: number | null | undefined
  reasoning: number | null | undefined
}

export interface TokenPart {
  /** Locale key of its label, with the count as `{n}`. */
  label: 'stats.tokens.cached' | 'stats.tokens.cacheWrite' | 'stats.tokens.reasoning'
  n: number
}

/** The parts worth a mention, in that order: those that are not zero. */
export function tokenParts(s: TokenSplit): TokenPart[] {
  const parts: TokenPart[] = [
    { label: 'stats.tokens.cached', n: s.cached ?? 0 },
    { label: 'stats.tokens.cacheWrite', n: s.cacheWrite ?? 0 },
    { label: 'stats.tokens.reasoning', n: s.reasoning ?? 0 },
  ]
  return parts.filter((p) => p.n > 0)
}
