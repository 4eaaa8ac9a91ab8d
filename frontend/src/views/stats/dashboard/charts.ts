// ECharts options of the dashboard, built from statistics groups. Pure functions of their inputs.

import type { DateGroup, ModelGroup, StatsResponse, UsageFigures } from '@/api/stats'
import type { ChartOption } from '@/components/chart/echarts'
import { formatMoney, formatTokens } from '@/utils/format'

import { tokenParts, type TokenPart } from './log'

const BLUE = '#165DFF'
const GOLD = '#F7BA1E'
const RED = '#F53F3F'

export const PALETTE = ['#165DFF', '#14C9C9', '#F7BA1E', '#722ED1', '#F77234', '#3491FA', '#9FDB1D', '#F5319D', '#86909C']

export type Metric = 'requests' | 'total_tokens' | 'cost'

export function metricValue(g: UsageFigures, m: Metric): number {
  return g[m]
}

export function formatMetric(v: number, m: Metric, locale: string): string {
  if (m === 'cost') return formatMoney(v, locale)
  return formatTokens(v, locale)
}

/** Failed requests (status >= 400) and their share of all requests. */
export function errorSummary(s: StatsResponse | null): { errors: number; rate: number | null } {
  if (!s) return { errors: 0, rate: null }
  const errors = s.summary.errors
  const total = s.summary.total_requests
  return { errors, rate: total > 0 ? errors / total : null }
}

/** Mean latency over the period (the server's, 0 without requests). */
export function avgLatency(s: StatsResponse | null): number | null {
  return s ? s.summary.avg_latency_ms : null
}

/** The period's tokens billed apart (prompt cache reads and writes, reasoning) that are not zero. */
export function summaryTokenParts(s: StatsResponse | null): TokenPart[] {
  if (!s) return []
  const { total_cached_tokens, total_cache_creation_tokens, total_reasoning_tokens } = s.summary
  return tokenParts({ cached: total_cached_tokens, cacheWrite: total_cache_creation_tokens, reasoning: total_reasoning_tokens })
}

/** Models that served requests without a known price (their cost is not counted), most such requests first. */
export function unpricedModels(groups: ModelGroup[]): { model: string; requests: number }[] {
  return groups
    .filter((g) => g.unpriced_requests > 0)
    .map((g) => ({ model: g.model, requests: g.unpriced_requests }))
    .sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model))
}

/** A coloured dot for tooltips (ECharts' own `marker` is per series; these lines are built by hand). */
function dot(color: string): string {
  return `<span style="display:inline-block;margin-right:6px;width:8px;height:8px;border-radius:50%;background:${color}"></span>`
}

/**
 * Requests per period as a line with markers and a light area, cost as bars on the right axis, failed
 * requests as red points (only where there were any). Both axes start at 0, so a period with traffic only
 * on its last day reads as one point/bar on an otherwise flat base instead of a curve shooting up.
 */
export function trendOption(
  groups: DateGroup[],
  labels: { requests: string; cost: string; errors: string },
  locale: string,
): ChartOption {
  const dense = groups.length > 60
  const requests = groups.map((g) => g.requests)
  const cost = groups.map((g) => g.cost)
  const errors = groups.map((g) => g.errors)
  const oneYear = new Set(groups.map((g) => g.date.slice(0, 4))).size <= 1
  return {
    animation: false,
    grid: { left: 48, right: 72, top: 40, bottom: 28 },
    legend: {
      top: 0,
      itemWidth: 14,
      itemHeight: 8,
      itemGap: 20,
      // Plain icons: the default for a line series (line + hollow symbol) looks broken at legend size.
      data: [
        { name: labels.requests, icon: 'roundRect', itemStyle: { color: BLUE } },
        { name: labels.cost, icon: 'roundRect', itemStyle: { color: GOLD } },
        { name: labels.errors, icon: 'circle', itemStyle: { color: RED } },
      ],
    },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      formatter: (params: unknown) => {
        const items = params as { axisValueLabel?: string; dataIndex: number }[]
        const i = items[0]?.dataIndex ?? 0
        return [
          items[0]?.axisValueLabel ?? '',
          `${dot(BLUE)}${labels.requests}: <b>${formatTokens(requests[i] ?? 0, locale)}</b>`,
          `${dot(GOLD)}${labels.cost}: <b>${formatMoney(cost[i] ?? 0, locale)}</b>`,
          `${dot(RED)}${labels.errors}: <b>${formatTokens(errors[i] ?? 0, locale)}</b>`,
        ].join('<br/>')
      },
    },
    xAxis: {
      type: 'category',
      boundaryGap: true,
      data: groups.map((g) => g.date.slice(0, 10)),
      axisTick: { alignWithLabel: true },
      // "11-27" under the axis when the period is within one year (the tooltip names the whole date).
      axisLabel: { hideOverlap: true, formatter: (v: string) => (oneYear ? v.slice(5) : v) },
    },
    yAxis: [
      { type: 'value', min: 0, minInterval: 1, splitLine: { lineStyle: { type: 'dashed' } } },
      {
        type: 'value',
        min: 0,
        splitLine: { show: false },
        axisLabel: { formatter: (v: number) => formatMoney(v, locale) },
      },
    ],
    series: [
      {
        name: labels.cost,
        type: 'bar',
        yAxisIndex: 1,
        barMaxWidth: 12,
        itemStyle: { color: GOLD, opacity: 0.6, borderRadius: [3, 3, 0, 0] },
        z: 1,
        data: cost,
      },
      {
        name: labels.requests,
        type: 'line',
        symbol: 'circle',
        symbolSize: 6,
        showSymbol: !dense,
        itemStyle: { color: BLUE },
        lineStyle: { color: BLUE, width: 2 },
        areaStyle: { color: BLUE, opacity: 0.1 },
        z: 3,
        data: requests,
      },
      {
        name: labels.errors,
        type: 'line',
        symbol: 'circle',
        symbolSize: 7,
        showSymbol: true,
        itemStyle: { color: RED },
        lineStyle: { color: RED, width: 1.5 },
        z: 4,
        // Only the periods with failures get a point; zero would draw a red line over the whole base.
        data: errors.map((n) => (n > 0 ? n : null)),
      },
    ],
  }
}

export function barOption<G extends UsageFigures>(
  groups: G[],
  name: (g: G) => string,
  metric: Metric,
  locale: string,
  limit = 10,
): ChartOption {
  const top = [...groups].sort((a, b) => metricValue(b, metric) - metricValue(a, metric)).slice(0, limit).reverse()
  return {
    color: [BLUE],
    animation: false,
    grid: { left: 8, right: 72, top: 8, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      valueFormatter: (v: unknown) => formatMetric(Number(v), metric, locale),
    },
    xAxis: { type: 'value', show: false },
    yAxis: {
      type: 'category',
      data: top.map(name),
      axisTick: { show: false },
      axisLabel: { width: 180, overflow: 'truncate' },
    },
    series: [
      {
        type: 'bar',
        barMaxWidth: 18,
        data: top.map((g) => metricValue(g, metric)),
        label: {
          show: true,
          position: 'right',
          formatter: (p: { value: unknown }) => formatMetric(Number(p.value), metric, locale),
        },
        itemStyle: { borderRadius: [0, 3, 3, 0] },
      },
    ],
  }
}

export function pieOption<G extends UsageFigures>(
  groups: G[],
  name: (g: G) => string,
  metric: Metric,
  locale: string,
): ChartOption {
  return {
    color: PALETTE,
    animation: false,
    tooltip: {
      trigger: 'item',
      formatter: (p: unknown) => {
        const { name: n, value, percent } = p as { name: string; value: number; percent: number }
        return `${n}: <b>${formatMetric(value, metric, locale)}</b> (${percent}%)`
      },
    },
    legend: { bottom: 0, type: 'scroll' },
    series: [
      {
        type: 'pie',
        radius: ['42%', '68%'],
        center: ['50%', '45%'],
        avoidLabelOverlap: true,
        label: { show: false },
        data: groups
          .map((g) => ({ name: name(g), value: metricValue(g, metric) }))
          .filter((d) => d.value > 0),
      },
    ],
  }
}
