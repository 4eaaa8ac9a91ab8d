import { describe, expect, it } from 'vitest'

import { keyChanges, type ApiKeyFields, type ApiKeyListed } from '../apiKeys'

const current: ApiKeyListed = {
  id: 'k1',
  key_hint: 'gaia_k1_…abcd',
  organization_id: 'o1',
  name: 'ci',
  description: null,
  permissions: ['read', 'write'],
  status: 'active',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  expires_at: '2099-01-01T00:00:00.123456Z',
  last_used_at: null,
  monthly_requests_limit: null,
  monthly_tokens_limit: 1000,
  monthly_cost_limit: 2.5,
  rate_limit_rpm: null,
  usage: { month_requests: 0, month_tokens: 0, month_cost: 0 },
}

const same: ApiKeyFields = {
  name: 'ci',
  description: null,
  permissions: ['write', 'read'],
  expires_at: new Date(current.expires_at ?? '').toISOString(),
  monthly_requests_limit: null,
  monthly_tokens_limit: 1000,
  monthly_cost_limit: 2.5,
  rate_limit_rpm: null,
}

describe('keyChanges', () => {
  it('sends nothing for an unchanged form (order of permissions and sub-millisecond expiry aside)', () => {
    expect(keyChanges(current, same)).toEqual({})
  })

  it('sends only what changed, so a rename does not re-send limits looser than the caller’s', () => {
    expect(keyChanges(current, { ...same, name: 'ci-2' })).toEqual({ name: 'ci-2' })
    expect(keyChanges(current, { ...same, rate_limit_rpm: 10, monthly_tokens_limit: null })).toEqual({
      rate_limit_rpm: 10,
      monthly_tokens_limit: null,
    })
    expect(keyChanges(current, { ...same, permissions: ['read'], expires_at: null })).toEqual({
      permissions: ['read'],
      expires_at: null,
    })
  })
})
