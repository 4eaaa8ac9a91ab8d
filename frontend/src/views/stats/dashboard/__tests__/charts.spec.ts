import { describe, expect, it } from 'vitest'

import type { StatsResponse } from '@/api/stats'

import { avgLatency, barOption, errorSummary, summaryTokenParts, trendOption, unpricedModels } from '../charts'

const figures = (requests: number, errors: number, avg: number, unpriced = 0) => ({
  requests,
  prompt_tokens: 0,
  completion_tokens: 0,
  total_tokens: 0,
  cached_tokens: 0,
  cache_creation_tokens: 0,
  reasoning_tokens: 0,
  cost: requests / 100,
  errors,
  avg_latency_ms: avg,
  unpriced_requests: unpriced,
})

const report = (summary: Partial<StatsResponse['summary']>): StatsResponse => ({
  period: { start: '2026-11-01', end: '2026-11-02' },
  group_by: 'day',
  summary: {
    total_requests: 40,
    total_prompt_tokens: 0,
    total_completion_tokens: 0,
    total_tokens: 0,
    total_cached_tokens: 0,
    total_cache_creation_tokens: 0,
    total_reasoning_tokens: 0,
    total_cost: 0.4,
    errors: 4,
    avg_latency_ms: 175,
    unpriced_requests: 0,
    ...summary,
  },
  by_date: [
    { date: '2026-11-01', ...figures(10, 1, 100) },
    { date: '2026-11-02', ...figures(30, 3, 200) },
  ],
  by_model: [],
  by_provider: [],
})

describe('dashboard figures', () => {
  it('takes the error count from the summary, with its share of the requests', () => {
    expect(errorSummary(report({ errors: 8 }))).toEqual({ errors: 8, rate: 0.2 })
    expect(errorSummary(report({ errors: 0, total_requests: 0 }))).toEqual({ errors: 0, rate: null })
    expect(errorSummary(null)).toEqual({ errors: 0, rate: null })
  })

  it('takes the cache reads, cache writes and reasoning of the Tokens card from the summary, zeros left out', () => {
    expect(
      summaryTokenParts(report({ total_cached_tokens: 9000, total_cache_creation_tokens: 0, total_reasoning_tokens: 1200 })),
    ).toEqual([
      { label: 'stats.tokens.cached', n: 9000 },
      { label: 'stats.tokens.reasoning', n: 1200 },
    ])
    expect(summaryTokenParts(report({ total_cache_creation_tokens: 40 }))).toEqual([{ label: 'stats.tokens.cacheWrite', n: 40 }])
    expect(summaryTokenParts(report({}))).toEqual([])
    expect(summaryTokenParts(null)).toEqual([])
  })

  it('takes the average latency from the summary', () => {
    expect(avgLatency(report({ avg_latency_ms: 123 }))).toBe(123)
    expect(avgLatency(null)).toBeNull()
  })

  it('ranks the top models by the chosen metric, largest on top', () => {
    const groups = [
      { model: 'a', ...figures(5, 0, 0) },
      { model: 'b', ...figures(50, 0, 0) },
      { model: 'c', ...figures(20, 0, 0) },
    ]
    const opt = barOption(groups, (g) => g.model, 'requests', 'en-US', 2) as {
      yAxis: { data: string[] }
      series: { data: number[] }[]
    }
    expect(opt.yAxis.data).toEqual(['c', 'b'])
    expect(opt.series[0]?.data).toEqual([20, 50])
  })

  it('draws the trend on zero-based axes, errors only where there were any, with plain legend icons', () => {
    const days = [
      { date: '2026-11-01', ...figures(0, 0, 0) },
      { date: '2026-11-02', ...figures(30, 3, 200) },
    ]
    const opt = trendOption(days, { requests: 'R', cost: 'C', errors: 'E' }, 'en-US') as {
      legend: { data: { name: string; icon: string }[] }
      yAxis: { min: number }[]
      series: { name: string; type: string; yAxisIndex?: number; data: (number | null)[] }[]
    }
    expect(opt.legend.data.map((d) => d.icon)).toEqual(['roundRect', 'roundRect', 'circle'])
    expect(opt.yAxis.map((a) => a.min)).toEqual([0, 0])
    const byName = Object.fromEntries(opt.series.map((s) => [s.name, s]))
    expect(byName.R?.data).toEqual([0, 30])
    expect(byName.C).toMatchObject({ type: 'bar', yAxisIndex: 1, data: [0, 0.3] })
    expect(byName.E?.data).toEqual([null, 3])
  })

  it('lists the models that served unpriced requests, most first, and none when all were priced', () => {
    const groups = [
      { model: 'openai/priced', ...figures(40, 0, 0) },
      { model: 'openai/local-b', ...figures(5, 0, 0, 2) },
      { model: 'openai/local-a', ...figures(9, 0, 0, 9) },
      { model: 'openai/local-c', ...figures(3, 0, 0, 2) },
    ]
    expect(unpricedModels(groups)).toEqual([
      { model: 'openai/local-a', requests: 9 },
      { model: 'openai/local-b', requests: 2 },
      { model: 'openai/local-c', requests: 2 },
    ])
    expect(unpricedModels([{ model: 'openai/priced', ...figures(40, 0, 0) }])).toEqual([])
  })
})
