// The app's pages. `meta` drives the side menu, the page title and the permission guard:
// `permission` is what the session needs (`admin` implies everything, `write` implies `read`).

import {
  IconApps,
  IconBarChart,
  IconCode,
  IconExperiment,
  IconSafe,
  IconUserGroup,
  IconUser,
} from '@arco-design/web-vue/es/icon'
import type { RouteRecordRaw } from 'vue-router'

import DefaultLayout from '@/layout/DefaultLayout.vue'

export const appRoutes: RouteRecordRaw[] = [
  {
    path: 'dashboard',
    name: 'dashboard',
    component: () => import('@/views/stats/dashboard/index.vue'),
    meta: { title: 'menu.dashboard', icon: IconBarChart, permission: 'read', group: 'manage' },
  },
  {
    path: 'organizations',
    name: 'organizations',
    component: () => import('@/views/organizations/list/index.vue'),
    meta: { title: 'menu.organizations', icon: IconUserGroup, permission: 'read', group: 'manage' },
  },
  {
    path: 'api-keys',
    name: 'api-keys',
    component: () => import('@/views/api-keys/list/index.vue'),
    meta: { title: 'menu.apiKeys', icon: IconSafe, permission: 'read', group: 'manage' },
  },
  {
    path: 'models',
    name: 'models',
    component: () => import('@/views/models/registry/index.vue'),
    meta: { title: 'menu.models', icon: IconApps, permission: 'admin', group: 'manage' },
  },
  {
    path: 'users',
    name: 'users',
    component: () => import('@/views/users/list/index.vue'),
    meta: { title: 'menu.users', icon: IconUser, permission: 'admin', group: 'manage' },
  },
  {
    path: 'playground',
    name: 'playground',
    component: () => import('@/views/playground/chat/index.vue'),
    meta: { title: 'menu.playground', icon: IconExperiment, group: 'develop' },
  },
  {
    path: 'api-usage',
    name: 'api-usage',
    component: () => import('@/views/api-usage/guide/index.vue'),
    meta: { title: 'menu.usage', icon: IconCode, group: 'develop' },
  },
]

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
    children: [
      ...appRoutes,
      {
        path: '403',
        name: 'forbidden',
        component: () => import('@/views/exception/ForbiddenPage.vue'),
        meta: { title: 'exception.403' },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/exception/NotFoundPage.vue'),
        meta: { title: 'exception.404' },
      },
    ],
  },
]
