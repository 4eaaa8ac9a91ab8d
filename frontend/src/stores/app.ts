// UI preferences: language and the side menu's collapsed state.

import { defineStore } from 'pinia'
import { ref, watch } from 'vue'

import { currentLocale, setLocale, type Locale } from '@/locale'

const COLLAPSED_KEY = 'gaia.menuCollapsed'

export const useAppStore = defineStore('app', () => {
  const menuCollapsed = ref(localStorage.getItem(COLLAPSED_KEY) === '1')
  watch(menuCollapsed, (v) => localStorage.setItem(COLLAPSED_KEY, v ? '1' : '0'))

  function changeLocale(locale: Locale): void {
    setLocale(locale)
  }

  return { locale: currentLocale, menuCollapsed, changeLocale }
})
