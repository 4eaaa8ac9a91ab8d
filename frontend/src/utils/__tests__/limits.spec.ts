import { describe, expect, it } from 'vitest'

import { limitsFromForm, limitsToForm } from '../limits'

describe('the limits of a form', () => {
  it('start empty where a record has no limit, and blank for a new record', () => {
    expect(limitsToForm({ monthly_requests_limit: 1000, monthly_tokens_limit: null, monthly_cost_limit: 0 })).toEqual({
      monthly_requests_limit: 1000,
      monthly_tokens_limit: undefined,
      monthly_cost_limit: 0,
      rate_limit_rpm: undefined,
    })
    expect(limitsToForm({})).toEqual({
      monthly_requests_limit: undefined,
      monthly_tokens_limit: undefined,
      monthly_cost_limit: undefined,
      rate_limit_rpm: undefined,
    })
  })

  it('are sent with an empty input as null (unlimited), 0 kept', () => {
    expect(
      limitsFromForm({ monthly_requests_limit: 5, monthly_tokens_limit: undefined, monthly_cost_limit: 0, rate_limit_rpm: undefined }),
    ).toEqual({ monthly_requests_limit: 5, monthly_tokens_limit: null, monthly_cost_limit: 0, rate_limit_rpm: null })
  })
})
