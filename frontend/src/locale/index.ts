// A small i18n util: flat `key → text` tables per language, `{name}` placeholders, and a reactive current
// locale so templates re-render when it changes. Common strings live here (en-US.ts / zh-CN.ts); each
// view keeps its own in `views/<area>/<page>/locale/{en-US,zh-CN}.ts`, merged in below.

import { computed, ref } from 'vue'

import enUS from './en-US'
import zhCN from './zh-CN'

export const LOCALES = ['en-US', 'zh-CN'] as const
export type Locale = (typeof LOCALES)[number]
export type Messages = Record<string, string>

const STORAGE_KEY = 'gaia.locale'

const viewMessages = import.meta.glob<{ default: Messages }>('../views/**/locale/*.ts', {
  eager: true,
})

function collect(locale: Locale, base: Messages): Messages {
  const merged: Messages = { ...base }
  for (const [path, mod] of Object.entries(viewMessages)) {
    if (path.endsWith(`/${locale}.ts`)) Object.assign(merged, mod.default)
  }
  return merged
}

export const messages: Record<Locale, Messages> = {
  'en-US': collect('en-US', enUS),
  'zh-CN': collect('zh-CN', zhCN),
}

/** The language to start in: a saved choice, else the browser's (Chinese → zh-CN), else English. */
export function detectLocale(
  saved: string | null = safeStorage()?.getItem(STORAGE_KEY) ?? null,
  languages: readonly string[] = typeof navigator === 'undefined'
    ? []
    : navigator.languages?.length
      ? navigator.languages
      : [navigator.language],
): Locale {
  if (saved && (LOCALES as readonly string[]).includes(saved)) return saved as Locale
  for (const lang of languages) {
    const l = lang.toLowerCase()
    if (l.startsWith('zh')) return 'zh-CN'
    if (l.startsWith('en')) return 'en-US'
  }
  return 'en-US'
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

export const currentLocale = ref<Locale>(detectLocale())

export function setLocale(locale: Locale): void {
  currentLocale.value = locale
  safeStorage()?.setItem(STORAGE_KEY, locale)
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

/** Translates `key`, filling `{name}` placeholders; a missing key shows as itself (easy to spot). */
export function t(key: string, params?: Record<string, string | number>): string {
  const text = messages[currentLocale.value][key] ?? messages['en-US'][key] ?? key
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (m, name: string) =>
    params[name] !== undefined ? String(params[name]) : m,
  )
}

export function useI18n() {
  return { t, locale: currentLocale, setLocale, isZh: computed(() => currentLocale.value === 'zh-CN') }
}
