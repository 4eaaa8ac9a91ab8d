// ECharts options of the dashboard, built from statistics groups. Pure functions of their inputs.

import type { DateGroup, StatsResponse, UsageFigures } from '@/api/stats'
import type { ChartOption } from '@/components/chart/echarts'
import { formatMoney, formatTokens } from '@/utils/format'

const BLUE = '#165DFF'
const GOLD = '#F7BA1E'
const RED = '#F53F3F'

export const PALETTE = ['#165DFF', '#14C9C9', '#F7BA1E', '#722ED1', '#F77234', '#3491FA', '#9FDB1D', '#F5319D', '#86909C']

export type Metric = 'requests' | 'total_tokens' | 'cost'

export function metricValue(g: UsageFigures, m: Metric): number {
  return g[m] ?? 0
}

export function formatMetric(v: number, m: Metric, locale: string): string {
  if (m === 'cost') return formatMoney(v, locale)
  return formatTokens(v, locale)
}

/** Failed requests and their share; `errors` per group when the server sends them. */
export function errorSummary(s: StatsResponse | null): { errors: number; rate: number | null } {
  if (!s) return { errors: 0, rate: null }
  const errors = s.summary.errors ?? (s.by_date ?? []).reduce((n, g) => n + (g.errors ?? 0), 0)
  const total = s.summary.total_requests
  return { errors, rate: total > 0 ? errors / total : null }
}

/** Average latency over the period, weighted by requests, when the groups carry it. */
export function avgLatency(s: StatsResponse | null): number | null {
  if (!s) return null
  if (s.summary.avg_latency_ms !== undefined) return s.summary.avg_latency_ms
  let weighted = 0
  let n = 0
  for (const g of s.by_date ?? []) {
    if (g.avg_latency_ms !== null && g.avg_latency_ms !== undefined && g.requests > 0) {
      weighted += g.avg_latency_ms * g.requests
      n += g.requests
    }
  }
  return n > 0 ? weighted / n : null
}

export function trendOption(
  groups: DateGroup[],
  labels: { requests: string; cost: string; errors: string },
  locale: string,
): ChartOption {
  return {
    color: [BLUE, GOLD, RED],
    animation: false,
    grid: { left: 48, right: 64, top: 40, bottom: 28 },
    legend: { top: 0, data: [labels.requests, labels.cost, labels.errors] },
    tooltip: {
      trigger: 'axis',
      valueFormatter: undefined,
      formatter: (params: unknown) => {
        const items = params as { axisValueLabel: string; seriesName: string; marker: string; value: number }[]
        const head = items[0]?.axisValueLabel ?? ''
        const lines = items.map(
          (p) =>
            `${p.marker}${p.seriesName}: <b>${
              p.seriesName === labels.cost ? formatMoney(p.value, locale) : formatTokens(p.value, locale)
            }</b>`,
        )
        return [head, ...lines].join('<br/>')
      },
    },
    xAxis: {
      type: 'category',
      boundaryGap: false,
      data: groups.map((g) => g.date.slice(0, 10)),
      axisLabel: { hideOverlap: true },
    },
    yAxis: [
      { type: 'value', minInterval: 1, splitLine: { lineStyle: { type: 'dashed' } } },
      {
        type: 'value',
        splitLine: { show: false },
        axisLabel: { formatter: (v: number) => formatMoney(v, locale) },
      },
    ],
    series: [
      {
        name: labels.requests,
        type: 'line',
        smooth: true,
        showSymbol: groups.length < 40,
        areaStyle: { opacity: 0.12 },
        data: groups.map((g) => g.requests),
      },
      {
        name: labels.cost,
        type: 'line',
        smooth: true,
        yAxisIndex: 1,
        showSymbol: groups.length < 40,
        data: groups.map((g) => g.cost),
      },
      {
        name: labels.errors,
        type: 'line',
        smooth: true,
        showSymbol: false,
        lineStyle: { type: 'dashed', width: 1 },
        data: groups.map((g) => g.errors ?? 0),
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
