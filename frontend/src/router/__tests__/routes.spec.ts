import { describe, expect, it } from 'vitest'

import { appRoutes, routes } from '../routes'

describe('the routes', () => {
  it('put each menu page at the path of its name, in its menu group, in menu order', () => {
    expect(appRoutes.map((r) => [r.path, r.name, r.meta?.group, r.meta?.permission])).toEqual([
      ['dashboard', 'dashboard', 'manage', 'read'],
      ['organizations', 'organizations', 'manage', 'read'],
      ['api-keys', 'api-keys', 'manage', 'read'],
      ['models', 'models', 'manage', 'admin'],
      ['channels', 'channels', 'manage', 'admin'],
      ['users', 'users', 'manage', 'admin'],
      ['playground', 'playground', 'develop', undefined],
      ['api-usage', 'api-usage', 'develop', undefined],
    ])
    expect(appRoutes.every((r) => typeof r.meta?.title === 'string' && r.meta.icon && 'component' in r)).toBe(true)
  })

  it('show the exception page with its status for 403 and anything unknown', () => {
    const children = routes.find((r) => r.path === '/')?.children ?? []
    const byName = (name: string) => children.find((r) => r.name === name)
    expect(byName('forbidden')).toMatchObject({ path: '403', props: { status: '403' }, meta: { title: 'exception.403' } })
    expect(byName('not-found')).toMatchObject({ path: ':pathMatch(.*)*', props: { status: '404' }, meta: { title: 'exception.404' } })
  })
})
