// The app's pages. `meta` drives the side menu, the page title and the permission guard:
// `permission` is what the session needs (`admin` implies everything, `write` implies `read`).

import {
  IconApps,
  IconBarChart,
  IconBranch,
  IconCode,
  IconExperiment,
  IconSafe,
  IconUserGroup,
  IconUser,
} from '@arco-design/web-vue/es/icon'
import type { RouteMeta, RouteRecordRaw, RouteRecordSingleView } from 'vue-router'

import DefaultLayout from '@/layout/DefaultLayout.vue'

/** A page of the side menu: its name (also its path), its menu entry and what it shows. */
interface MenuPage extends Omit<RouteMeta, 'group'> {
  name: string
  component: RouteRecordSingleView['component']
}

/** The pages of one group of the side menu, in menu order; each one's path is its name. */
function menuGroup(group: RouteMeta['group'], pages: MenuPage[]): RouteRecordRaw[] {
  return pages.map(({ name, component, ...meta }) => ({ path: name, name, component, meta: { ...meta, group } }))
}

export const appRoutes: RouteRecordRaw[] = [
  ...menuGroup('manage', [
    { name: 'dashboard', title: 'menu.dashboard', icon: IconBarChart, permission: 'read',
      component: () => import('@/views/stats/dashboard/index.vue') },
    { name: 'organizations', title: 'menu.organizations', icon: IconUserGroup, permission: 'read',
      component: () => import('@/views/organizations/list/index.vue') },
    { name: 'api-keys', title: 'menu.apiKeys', icon: IconSafe, permission: 'read',
      component: () => import('@/views/api-keys/list/index.vue') },
    { name: 'models', title: 'menu.models', icon: IconApps, permission: 'admin',
      component: () => import('@/views/models/registry/index.vue') },
    { name: 'channels', title: 'menu.channels', icon: IconBranch, permission: 'admin',
      component: () => import('@/views/channels/list/index.vue') },
    { name: 'users', title: 'menu.users', icon: IconUser, permission: 'admin',
      component: () => import('@/views/users/list/index.vue') },
  ]),
  ...menuGroup('develop', [
    { name: 'playground', title: 'menu.playground', icon: IconExperiment,
      component: () => import('@/views/playground/chat/index.vue') },
    { name: 'api-usage', title: 'menu.usage', icon: IconCode,
      component: () => import('@/views/api-usage/guide/index.vue') },
  ]),
]

/** The page that says the session may not open a page (403) or that there is none (404). */
function exceptionRoute(status: '403' | '404', name: string, path: string): RouteRecordRaw {
  const component = () => import('@/views/exception/ExceptionPage.vue')
  return { path, name, component, props: { status }, meta: { title: `exception.${status}` } }
}

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/login/index.vue'),
    meta: { title: 'login.title', requiresAuth: false },
  },
  {
    path: '/',
    component: DefaultLayout,
    redirect: { name: 'dashboard' },
    children: [...appRoutes, exceptionRoute('403', 'forbidden', '403'), exceptionRoute('404', 'not-found', ':pathMatch(.*)*')],
  },
]
