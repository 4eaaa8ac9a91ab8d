import { afterEach, describe, expect, it } from 'vitest'

import { setLocale } from '@/locale'

import {
  activationProblem,
  activationText,
  expiryProblem,
  grants,
  inheritsText,
  inputMax,
  keyCeiling,
  limitProblem,
  reasonText,
  type CeilingCaller,
  type KeyGrant,
} from '../keyCeiling'

afterEach(() => setLocale('en-US'))

const IN_A_WEEK = '2099-01-08T00:00:00Z'
const IN_A_MONTH = '2099-02-01T00:00:00Z'

/** A write key with limits on three fields (tokens unlimited), like the server's unit tests. */
function key(id: string, over: Partial<KeyGrant> = {}): KeyGrant {
  return {
    id,
    permissions: ['read', 'write'],
    expires_at: null,
    monthly_requests_limit: 5,
    monthly_tokens_limit: null,
    monthly_cost_limit: 2,
    rate_limit_rpm: 2,
    ...over,
  }
}

const unlimited = (id: string, over: Partial<KeyGrant> = {}) =>
  key(id, {
    monthly_requests_limit: null,
    monthly_tokens_limit: null,
    monthly_cost_limit: null,
    rate_limit_rpm: null,
    ...over,
  })

const keySession = (id: string, permissions: KeyGrant['permissions'] = ['read', 'write']): CeilingCaller => ({
  kind: 'key',
  keyId: id,
  permissions,
})

describe('keyCeiling: admins have no ceiling', () => {
  it.each<[string, CeilingCaller]>([
    ['the bootstrap key', { kind: 'bootstrap', keyId: null, permissions: ['admin'] }],
    ['an admin user', { kind: 'user', keyId: null, permissions: ['admin'] }],
    ['an admin key editing another key', keySession('me', ['admin'])],
  ])('%s may set anything on another key', (_, caller) => {
    const c = keyCeiling(caller, key('me', { permissions: ['admin'] }), key('other'))
    expect(c.whose).toBeNull()
    for (const l of Object.values(c.limits)) {
      expect(l).toMatchObject({ locked: false, max: null, allowUnlimited: true, reason: null })
    }
    expect(Object.values(c.permissions).every((p) => !p.locked)).toBe(true)
    expect(c.expiry).toMatchObject({ locked: false, allowNever: true, max: null })
  })

  it('an admin key creating a key is not capped either', () => {
    const c = keyCeiling(keySession('me', ['admin']), key('me', { permissions: ['admin'] }), null)
    expect(c.whose).toBeNull()
    expect(c.limits.monthly_requests_limit.inherits).toBeNull()
  })
})

describe('keyCeiling: a key never loosens itself', () => {
  const me = key('me', { permissions: ['read', 'write'], expires_at: IN_A_MONTH })
  const c = keyCeiling(keySession('me'), me, me)

  it('caps each limit it has at its current value and never offers unlimited there', () => {
    expect(c.whose).toBe('self')
    expect(c.limits.monthly_requests_limit).toMatchObject({ locked: true, max: 5, allowUnlimited: false, inherits: null })
    expect(c.limits.monthly_requests_limit.reason).toEqual({ whose: 'self', field: 'monthly_requests_limit', own: 5 })
    expect(inputMax(c.limits.monthly_requests_limit)).toBe(5)
  })

  it('leaves a limit it does not have free: setting one only tightens it', () => {
    expect(c.limits.monthly_tokens_limit).toMatchObject({ locked: false, allowUnlimited: true, reason: null })
    expect(limitProblem(c.limits.monthly_tokens_limit, 1_000_000)).toBeNull()
  })

  it('may lower a limit or keep it, but not raise or clear it', () => {
    const rpm = c.limits.rate_limit_rpm
    expect(limitProblem(rpm, 1)).toBeNull()
    expect(limitProblem(rpm, 0)).toBeNull()
    expect(limitProblem(rpm, 2)).toBeNull()
    expect(limitProblem(rpm, 3)).toEqual({ whose: 'self', field: 'rate_limit_rpm', own: 2 })
    expect(limitProblem(rpm, undefined)).toEqual(rpm.reason)
    expect(limitProblem(rpm, null)).toEqual(rpm.reason)
    expect(limitProblem(c.limits.monthly_cost_limit, 2.01)).not.toBeNull()
  })

  it('may drop a permission but not add one', () => {
    expect(c.permissions.read.locked).toBe(false)
    expect(c.permissions.write.locked).toBe(false)
    expect(c.permissions.admin).toEqual({ locked: true, reason: { whose: 'self', field: 'permissions', own: null } })
  })

  it('may bring its expiry forward, not move it later nor remove it', () => {
    expect(c.expiry).toMatchObject({ locked: true, max: IN_A_MONTH, allowNever: false, inherits: null })
    expect(expiryProblem(c.expiry, new Date(IN_A_WEEK))).toBeNull()
    expect(expiryProblem(c.expiry, new Date(IN_A_MONTH))).toBeNull()
    expect(expiryProblem(c.expiry, new Date('2099-02-02T00:00:00Z'))).toEqual(c.expiry.reason)
    expect(expiryProblem(c.expiry, undefined)).toEqual(c.expiry.reason)
  })

  it('may set an expiry when it has none', () => {
    const free = keyCeiling(keySession('me'), key('me'), key('me'))
    expect(free.expiry).toMatchObject({ locked: false, allowNever: true })
    expect(expiryProblem(free.expiry, new Date(IN_A_WEEK))).toBeNull()
  })

  it('holds an admin key to its own limits too, though it may keep every permission', () => {
    const admin = key('root', { permissions: ['admin'] })
    const a = keyCeiling(keySession('root', ['admin']), admin, admin)
    expect(a.whose).toBe('self')
    expect(a.limits.monthly_requests_limit).toMatchObject({ locked: true, max: 5 })
    expect(Object.values(a.permissions).every((p) => !p.locked)).toBe(true)
  })

  it('reads the freshly fetched own key rather than an older list row', () => {
    const row = key('me', { monthly_requests_limit: 50 })
    const fresh = key('me', { monthly_requests_limit: 5 })
    expect(keyCeiling(keySession('me'), fresh, row).limits.monthly_requests_limit.max).toBe(5)
    // Without it, the row itself is the ceiling.
    expect(keyCeiling(keySession('me'), null, row).limits.monthly_requests_limit.max).toBe(50)
  })
})

describe('keyCeiling: a non-admin key gives at most what it has', () => {
  const own = key('me', { expires_at: IN_A_MONTH })
  const caller = keySession('me')

  it('on create, caps each limit at its own and an empty field inherits it', () => {
    const c = keyCeiling(caller, own, null)
    expect(c.whose).toBe('caller')
    const requests = c.limits.monthly_requests_limit
    expect(requests).toMatchObject({ locked: true, max: 5, allowUnlimited: false, inherits: 5 })
    expect(requests.reason).toEqual({ whose: 'caller', field: 'monthly_requests_limit', own: 5 })
    expect(limitProblem(requests, undefined)).toBeNull()
    expect(limitProblem(requests, 5)).toBeNull()
    expect(limitProblem(requests, 6)).toEqual(requests.reason)
  })

  it('leaves unlimited where its own is unlimited', () => {
    const tokens = keyCeiling(caller, own, null).limits.monthly_tokens_limit
    expect(tokens).toMatchObject({ locked: false, allowUnlimited: true, inherits: null, reason: null })
    expect(limitProblem(tokens, 10 ** 12)).toBeNull()
  })

  it('locks the permissions it lacks (write does not imply read, as on the server)', () => {
    const c = keyCeiling(caller, own, null)
    expect(c.permissions.admin).toEqual({ locked: true, reason: { whose: 'caller', field: 'permissions', own: null } })
    expect(c.permissions.write.locked).toBe(false)
    const writeOnly = keyCeiling(keySession('w', ['write']), key('w', { permissions: ['write'] }), null)
    expect(writeOnly.permissions.read.locked).toBe(true)
  })

  it('caps the expiry at its own, which an empty one inherits', () => {
    const e = keyCeiling(caller, own, null).expiry
    expect(e).toMatchObject({ locked: true, max: IN_A_MONTH, allowNever: false, inherits: IN_A_MONTH })
    expect(expiryProblem(e, undefined)).toBeNull()
    expect(expiryProblem(e, new Date(IN_A_WEEK))).toBeNull()
    expect(expiryProblem(e, new Date('2099-03-01T00:00:00Z'))).toEqual(e.reason)
    expect(keyCeiling(caller, key('me'), null).expiry.locked).toBe(false)
  })

  it('editing a looser sibling: it may keep what it has, rename it, or tighten it, not loosen it', () => {
    const sibling = unlimited('sib', { rate_limit_rpm: 10, expires_at: '2099-06-01T00:00:00Z' })
    const c = keyCeiling(caller, own, sibling)
    const requests = c.limits.monthly_requests_limit
    expect(requests).toMatchObject({ locked: true, max: 5, allowUnlimited: false, current: null, inherits: null })
    expect(limitProblem(requests, undefined)).toBeNull() // unchanged: still unlimited
    expect(limitProblem(requests, 6)).toEqual(requests.reason)
    expect(limitProblem(requests, 4)).toBeNull()
    const rpm = c.limits.rate_limit_rpm
    expect(inputMax(rpm)).toBe(10) // the input keeps showing 10 instead of lowering it
    expect(limitProblem(rpm, 10)).toBeNull()
    expect(limitProblem(rpm, 8)).toEqual(rpm.reason)
    expect(limitProblem(rpm, 2)).toBeNull()
    expect(expiryProblem(c.expiry, new Date('2099-06-01T00:00:00Z'))).toBeNull()
    expect(expiryProblem(c.expiry, new Date('2099-05-01T00:00:00Z'))).toEqual(c.expiry.reason)
    // A sibling whose value was tighter cannot be cleared to unlimited.
    const tight = keyCeiling(caller, own, key('sib2', { monthly_requests_limit: 3 })).limits.monthly_requests_limit
    expect(limitProblem(tight, undefined)).toEqual(tight.reason)
  })

  it('caps nothing until its own key is known (the server still decides)', () => {
    expect(keyCeiling(caller, null, null).whose).toBeNull()
    expect(keyCeiling(caller, key('someone-else'), null).whose).toBeNull()
  })
})

describe('activationProblem', () => {
  const own = key('me', { expires_at: IN_A_MONTH })
  const caller = keySession('me')

  it('refuses to switch on a key looser than the caller, naming the first looser field', () => {
    expect(activationProblem(caller, own, unlimited('sib'))).toEqual({
      whose: 'caller',
      field: 'monthly_requests_limit',
      own: 5,
    })
    expect(activationProblem(caller, own, key('sib', { rate_limit_rpm: 3, expires_at: IN_A_WEEK }))?.field).toBe(
      'rate_limit_rpm',
    )
    expect(activationProblem(caller, own, key('sib', { expires_at: null }))?.field).toBe('expires_at')
    expect(activationProblem(caller, own, key('sib', { permissions: ['admin'], expires_at: IN_A_WEEK }))?.field).toBe(
      'permissions',
    )
  })

  it('allows a key no looser than the caller, and anything for admins', () => {
    expect(activationProblem(caller, own, key('sib', { expires_at: IN_A_WEEK, rate_limit_rpm: 1 }))).toBeNull()
    expect(activationProblem(keySession('me', ['admin']), own, unlimited('sib'))).toBeNull()
    expect(activationProblem({ kind: 'user', keyId: null, permissions: ['admin'] }, null, unlimited('sib'))).toBeNull()
  })
})

describe('grants', () => {
  it('admin grants everything; otherwise only the permission itself', () => {
    expect(grants(['admin'], 'read')).toBe(true)
    expect(grants(['write'], 'write')).toBe(true)
    expect(grants(['write'], 'read')).toBe(false)
    expect(grants(['read', 'write'], 'admin')).toBe(false)
  })
})

describe('reason texts', () => {
  it('says why, in English', () => {
    expect(reasonText({ whose: 'caller', field: 'monthly_requests_limit', own: 5 })).toBe(
      'At most your own key’s limit (5)',
    )
    expect(reasonText({ whose: 'caller', field: 'monthly_cost_limit', own: 2 })).toBe(
      'At most your own key’s limit ($2.00)',
    )
    expect(reasonText({ whose: 'self', field: 'monthly_tokens_limit', own: 1_000_000 })).toBe(
      'At most its current limit (1,000,000)',
    )
    expect(reasonText({ whose: 'self', field: 'permissions', own: null })).toMatch(/cannot give itself/)
    expect(reasonText({ whose: 'caller', field: 'permissions', own: null })).toMatch(/cannot grant it/)
    expect(reasonText({ whose: 'caller', field: 'expires_at', own: IN_A_MONTH })).toMatch(/^No later than your own key’s expiry \(.*2099.*\)$/)
    expect(inheritsText('monthly_requests_limit', 5)).toBe('inherits 5')
    expect(activationText({ whose: 'caller', field: 'rate_limit_rpm', own: 2 })).toBe(
      'Your key cannot activate it: its “Requests per minute” limit is looser than your own key’s (2)',
    )
  })

  it('and in Chinese', () => {
    setLocale('zh-CN')
    expect(reasonText({ whose: 'caller', field: 'monthly_requests_limit', own: 5 })).toBe('最多为你自己密钥的限额（5）')
    expect(reasonText({ whose: 'self', field: 'rate_limit_rpm', own: 2 })).toBe('最多为当前限额（2）')
    expect(inheritsText('monthly_cost_limit', 2)).toBe('继承 $2.00')
  })
})
