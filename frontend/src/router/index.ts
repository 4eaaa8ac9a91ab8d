import type { Component } from 'vue'
import { createRouter, createWebHistory, type RouteLocationRaw, type Router } from 'vue-router'

import type { Permission } from '@/api/types'
import { t } from '@/locale'
import { useAuthStore } from '@/stores/auth'

import { appRoutes, routes } from './routes'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title (menu entry, document title). */
    title?: string
    icon?: Component
    /** `false` for public pages; every other page needs a session. */
    requiresAuth?: boolean
    /** What the session must be allowed; absent: any signed-in session. */
    permission?: Permission
    /** Side-menu group. */
    group?: 'manage' | 'develop'
  }
}

/** The first page the session may open (read-only keys land on their statistics). */
export function homeRoute(can: (p: Permission) => boolean): RouteLocationRaw {
  const first = appRoutes.find((r) => !r.meta?.permission || can(r.meta.permission))
  return { name: first?.name ?? 'playground' }
}

export function installGuards(router: Router): void {
  router.beforeEach((to) => {
    const auth = useAuthStore()
    if (auth.isLoggedIn && auth.isExpired()) auth.logout(t('error.tokenExpired'))
    if (to.meta.requiresAuth === false) {
      if (to.name === 'login' && auth.isLoggedIn) return homeRoute(auth.can)
      return true
    }
    if (!auth.isLoggedIn) {
      return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    }
    if (to.name === 'dashboard' || to.path === '/') {
      // Fall through to the first allowed page when the dashboard is not.
      if (!auth.can('read')) return homeRoute(auth.can)
    }
    if (to.meta.permission && !auth.can(to.meta.permission)) return { name: 'forbidden' }
    return true
  })
  router.afterEach((to) => {
    const title = to.meta.title ? t(to.meta.title) : ''
    document.title = title ? `${title} · GaiaRouter` : 'GaiaRouter'
  })
}

export function createAppRouter(): Router {
  const router = createRouter({
    history: createWebHistory('/'),
    routes,
    // Drill-downs change only the query: start those at the top too; back/forward restore the position.
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  })
  installGuards(router)
  return router
}
