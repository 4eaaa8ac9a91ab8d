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
