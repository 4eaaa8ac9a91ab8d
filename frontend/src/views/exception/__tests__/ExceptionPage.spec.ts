import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'

import { setLocale } from '@/locale'
import { routes } from '@/router/routes'
import { useAuthStore } from '@/stores/auth'

import ExceptionPage from '../ExceptionPage.vue'

setLocale('en-US')

beforeEach(() => {
  sessionStorage.clear()
  setActivePinia(createPinia())
})

async function render(status: '403' | '404') {
  const router = createRouter({ history: createMemoryHistory(), routes })
  await router.push('/login')
  const w = mount(ExceptionPage, { props: { status }, global: { plugins: [router] } })
  return { w, router }
}

describe('ExceptionPage', () => {
  it('says a page may not be opened (403)', async () => {
    const { w } = await render('403')
    expect(w.get('.arco-result-title').text()).toBe('No permission')
    expect(w.get('.arco-result-subtitle').text()).toBe('You do not have permission to open this page.')
  })

  it('says a page does not exist (404), and leads home', async () => {
    const auth = useAuthStore()
    auth.token = 't'
    auth.principal = { kind: 'key', username: null, userId: null, keyId: 'k', role: null, permissions: ['read'], organizationId: null, expiresAt: null }
    const { w, router } = await render('404')
    const push = vi.spyOn(router, 'push')
    expect(w.get('.arco-result-title').text()).toBe('Page not found')
    expect(w.get('.arco-result-subtitle').text()).toBe('This page does not exist.')
    await w.get('.arco-result button').trigger('click')
    await flushPromises()
    expect(push).toHaveBeenCalledWith({ name: 'dashboard' })
  })
})
