// Draws the panels of a Grafana dashboard JSON from Prometheus API results (scripts/dashboard/render.mjs
// hands them over through window.renderDashboard). Grafana's layout: a 24-column grid from each panel's
// gridPos, rows 30 px high with 8 px margins; its dark theme, units, legends and stat/table/heatmap looks,
// approximately. Time series and heatmaps are ECharts charts (window.echarts, loaded before this file).
/* global echarts */
;(function () {
  'use strict'

  const CELL_HEIGHT = 30
  const MARGIN = 8
  const COLS = 24
  // Grafana's classic palette as the dark theme shows it.
  const PALETTE = [
    '#73BF69', '#F2CC0C', '#8AB8FF', '#FF780A', '#F2495C', '#5794F2', '#B877D9', '#705DA0', '#37872D', '#FADE2A',
    '#447EBC', '#C15C17', '#890F02', '#0A437C', '#6D1F62', '#584477', '#B7DBAB', '#F4D598', '#70DBED', '#F9BA8F',
    '#F29191', '#82B5D8', '#E5A8E2', '#AEA2E0',
  ]
  const NAMED = {
    green: '#73BF69', red: '#F2495C', orange: '#FF9830', yellow: '#FADE2A', blue: '#5794F2', purple: '#B877D9',
    'dark-orange': '#FF780A', gray: '#8E8E8E', grey: '#8E8E8E', text: '#CCCCDC', transparent: 'transparent',
  }
  const color = (c) => NAMED[c] ?? c
  const TEXT = 'rgb(204, 204, 220)'
  const TEXT2 = 'rgba(204, 204, 220, 0.65)'
  const GRID_LINE = 'rgba(240, 250, 255, 0.09)'
  // d3's interpolateOranges stops, reversed as Grafana does for the dark theme (low = dark).
  const ORANGES = ['#7f2704', '#a63603', '#d94801', '#f16913', '#fd8d3c', '#fdae6b', '#fdd0a2', '#fee6ce', '#fff5eb']

  // ------------------------------------------------------------------------------------------ value formats

  // Grafana's automatic decimals (getDecimalsForValue).
  function autoDecimals(v) {
    if (!Number.isFinite(v) || v === 0 || v % 1 === 0) return 0
    const log10 = Math.floor(Math.log(Math.abs(v)) / Math.LN10)
    let dec = -log10 + 1
    const norm = Math.abs(v) / Math.pow(10, -dec)
    if (norm > 2.25) ++dec
    return Math.max(0, Math.min(dec, 6))
  }
  const fixed = (v, d) => (d === undefined ? v.toFixed(autoDecimals(v)) : v.toFixed(d))

  function scaled(v, d, units) {
    let i = 0
    while (Math.abs(v) >= 1000 && i < units.length - 1) {
      v /= 1000
      i++
    }
    return fixed(v, d) + units[i]
  }

  /** value → text for a Grafana unit (the ones this dashboard uses, and a few more). */
  function format(unit, v, decimals) {
    if (v === null || v === undefined || !Number.isFinite(v)) return v === null || v === undefined ? '–' : String(v)
    switch (unit) {
      case 'percentunit':
        return fixed(v * 100, decimals) + '%'
      case 'percent':
        return fixed(v, decimals) + '%'
      case 'reqps':
        return scaled(v, decimals, [' req/s', 'K req/s', 'M req/s'])
      case 'currencyUSD':
        return (v < 0 ? '-$' : '$') + scaled(Math.abs(v), decimals, ['', 'K', 'M', 'B'])
      case 's': {
        const a = Math.abs(v)
        if (a === 0) return '0 s'
        if (a < 1e-6) return fixed(v * 1e9, decimals) + ' ns'
        if (a < 1e-3) return fixed(v * 1e6, decimals) + ' µs'
        if (a < 1) return fixed(v * 1e3, decimals) + ' ms'
        if (a < 60) return fixed(v, decimals) + ' s'
        if (a < 3600) return fixed(v / 60, decimals) + ' min'
        return fixed(v / 3600, decimals) + ' hour'
      }
      case 'short':
      default:
        return scaled(v, decimals, ['', ' K', ' Mil', ' Bil', ' Tri'])
    }
  }

  /** An axis tick: as format(), without trailing zeros (Grafana picks a tick's decimals from the increment). */
  const axisFormat = (unit, v, decimals) =>
    decimals !== undefined ? format(unit, v, decimals) : format(unit, v).replace(/(\.\d*?)0+(?=\D|$)/, '$1').replace(/\.(?=\D|$)/, '')

  const pad2 = (n) => String(n).padStart(2, '0')
  const hms = (ms) => {
    const d = new Date(ms)
    return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`
  }
  const ymdhms = (ms) => {
    const d = new Date(ms)
    return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${hms(ms)}`
  }

  // ------------------------------------------------------------------------------------------ data frames

  /** The display name of a series: legendFormat with {{label}} filled in (Grafana's rules). */
  function displayName(target, metric) {
    const labels = Object.assign({}, metric)
    const fmt = target.legendFormat
    if (fmt && fmt !== '__auto') return fmt.replace(/\{\{\s*(.+?)\s*\}\}/g, (_, name) => labels[name] ?? '')
    const name = labels.__name__ ?? ''
    delete labels.__name__
    const keys = Object.keys(labels)
    if (!keys.length) return name || target.expr
    return `${name}{${keys.map((k) => `${k}="${labels[k]}"`).join(', ')}}`
  }

  const num = (v) => {
    const n = Number(v)
    return Number.isFinite(n) ? n : null
  }

  /** Every series of a panel's targets: {name, metric, points: [[ms, value|null]]}; gaps where steps are missing. */
  function seriesOf(panel, data) {
    const out = []
    for (const t of panel.targets ?? []) {
      const q = data.results[`${panel.id}/${t.refId}`]
      if (!q || q.error) continue
      for (const s of q.result) {
        let points
        if (q.resultType === 'matrix') {
          points = []
          let prev = null
          for (const [ts, v] of s.values) {
            if (prev !== null && ts - prev > data.step * 1.5) points.push([(prev + data.step) * 1000, null])
            points.push([ts * 1000, num(v)])
            prev = ts
          }
        } else if (q.resultType === 'vector') points = [[s.value[0] * 1000, num(s.value[1])]]
        else continue
        out.push({ name: displayName(t, s.metric), metric: s.metric, points, refId: t.refId })
      }
    }
    return out
  }

  const values = (s) => s.points.map((p) => p[1]).filter((v) => v !== null)
  const CALCS = {
    mean: { title: 'Mean', fn: (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null) },
    max: { title: 'Max', fn: (v) => (v.length ? Math.max(...v) : null) },
    min: { title: 'Min', fn: (v) => (v.length ? Math.min(...v) : null) },
    sum: { title: 'Total', fn: (v) => v.reduce((a, b) => a + b, 0) },
    last: { title: 'Last', fn: (v) => (v.length ? v[v.length - 1] : null) },
    lastNotNull: { title: 'Last *', fn: (v) => (v.length ? v[v.length - 1] : null) },
    first: { title: 'First', fn: (v) => (v.length ? v[0] : null) },
    firstNotNull: { title: 'First *', fn: (v) => (v.length ? v[0] : null) },
  }

  function thresholdColor(fc, v) {
    const steps = fc.thresholds?.steps ?? [{ color: 'green', value: null }]
    let c = steps[0]?.color ?? 'green'
    for (const s of steps) if (s.value === null || (v !== null && v >= s.value)) c = s.color
    return color(c)
  }

  /** A value mapping's {text, color} for a raw value, if any. */
  function mapped(mappings, raw) {
    for (const m of mappings ?? []) {
      if (m.type === 'value' && m.options && raw in m.options) return m.options[raw]
    }
    return null
  }

  // ------------------------------------------------------------------------------------------ chrome

  const INFO_ICON =
    '<svg class="info" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2"><circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.5"/></svg>'
  const CHEVRON =
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.5"><path d="M6 9l6 6 6-6"/></svg>'

  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])

  function geometry(gridPos, width) {
    const col = (width - MARGIN * (COLS - 1)) / COLS
    return {
      left: gridPos.x * (col + MARGIN),
      top: gridPos.y * (CELL_HEIGHT + MARGIN),
      width: gridPos.w * col + (gridPos.w - 1) * MARGIN,
      height: gridPos.h * CELL_HEIGHT + (gridPos.h - 1) * MARGIN,
    }
  }

  function place(el, g) {
    el.style.left = `${g.left}px`
    el.style.top = `${g.top}px`
    el.style.width = `${g.width}px`
    el.style.height = `${g.height}px`
  }

  // ------------------------------------------------------------------------------------------ panels

  function timeseries(body, panel, data) {
    const series = seriesOf(panel, data)
    if (!series.length) return noData(body)
    const fc = panel.fieldConfig?.defaults ?? {}
    const unit = fc.unit ?? 'short'
    const custom = fc.custom ?? {}
    const legend = panel.options?.legend ?? {}
    const wrap = document.createElement('div')
    wrap.className = 'ts'
    const chartEl = document.createElement('div')
    chartEl.className = 'chart'
    wrap.appendChild(chartEl)
    body.appendChild(wrap)
    const colors = series.map((_, i) => PALETTE[i % PALETTE.length])
    if (legend.showLegend !== false) {
      const calcs = legend.calcs ?? []
      const el = document.createElement('div')
      el.className = 'legend'
      let html = '<table><tr><th></th>' + calcs.map((c) => `<th>${esc(CALCS[c]?.title ?? c)}</th>`).join('') + '</tr>'
      series.forEach((s, i) => {
        const v = values(s)
        html +=
          `<tr><td class="name"><span class="marker" style="background:${colors[i]}"></span>${esc(s.name)}</td>` +
          calcs.map((c) => `<td>${esc(format(unit, CALCS[c] ? CALCS[c].fn(v) : null, fc.decimals))}</td>`).join('') +
          '</tr>'
      })
      el.innerHTML = html + '</table>'
      wrap.appendChild(el)
      // As wide as its content, at most 62 % of the panel; longer names are cut with an ellipsis.
      const natural = el.querySelector('table').offsetWidth
      const room = Math.floor(wrap.getBoundingClientRect().width * 0.62)
      if (natural > room) {
        el.style.width = `${room}px`
        el.querySelector('table').style.width = '100%'
        for (const td of el.querySelectorAll('td.name')) {
          td.style.maxWidth = '0'
          td.style.width = '100%'
        }
      }
    }
    const all = series.flatMap(values)
    const min = custom.axisSoftMin !== undefined && all.every((v) => v >= custom.axisSoftMin) ? custom.axisSoftMin : undefined
    // Percentages of a whole stop at 100 %, as Grafana's axis does for values that never exceed it.
    const max = unit === 'percentunit' && all.every((v) => v <= 1) ? 1 : undefined
    const chart = echarts.init(chartEl, null, { renderer: 'canvas' })
    chart.setOption({
      animation: false,
      color: colors,
      grid: { left: 4, right: 12, top: 10, bottom: 4, containLabel: true },
      xAxis: {
        type: 'time',
        min: data.start * 1000,
        max: data.end * 1000,
        splitNumber: 5,
        axisLabel: { color: TEXT2, fontSize: 11, formatter: (v) => hms(v), hideOverlap: true },
        axisLine: { lineStyle: { color: GRID_LINE } },
        axisTick: { show: false },
        splitLine: { show: true, lineStyle: { color: GRID_LINE } },
      },
      yAxis: {
        type: 'value',
        min,
        max,
        interval: max === 1 ? 0.25 : undefined,
        splitNumber: 4,
        axisLabel: { color: TEXT2, fontSize: 11, formatter: (v) => axisFormat(unit, v, fc.decimals) },
        splitLine: { lineStyle: { color: GRID_LINE } },
      },
      series: series.map((s) => ({
        type: 'line',
        name: s.name,
        data: s.points,
        showSymbol: false,
        connectNulls: custom.spanNulls === true,
        lineStyle: { width: custom.lineWidth ?? 1 },
        areaStyle: custom.fillOpacity ? { opacity: custom.fillOpacity / 100 } : undefined,
        emphasis: { disabled: true },
      })),
    })
  }

  function sparkline(item, points, c, height) {
    const pts = points.filter((p) => p[1] !== null)
    if (pts.length < 2) return
    const w = 400
    const t0 = pts[0][0]
    const t1 = pts[pts.length - 1][0]
    const vs = pts.map((p) => p[1])
    const lo = Math.min(0, ...vs)
    const hi = Math.max(...vs)
    const x = (t) => ((t - t0) / (t1 - t0 || 1)) * w
    const y = (v) => height - ((v - lo) / (hi - lo || 1)) * (height - 2) - 1
    const line = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('')
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
    svg.setAttribute('class', 'spark')
    svg.setAttribute('viewBox', `0 0 ${w} ${height}`)
    svg.setAttribute('preserveAspectRatio', 'none')
    svg.style.height = `${height}px`
    svg.innerHTML =
      `<path d="${line}L${w},${height}L0,${height}Z" fill="${c}" fill-opacity="0.12"/>` +
      `<path d="${line}" fill="none" stroke="${c}" stroke-width="1.2" vector-effect="non-scaling-stroke"/>`
    item.appendChild(svg)
  }

  function stat(body, panel, data) {
    const series = seriesOf(panel, data)
    if (!series.length) return noData(body)
    const fc = panel.fieldConfig?.defaults ?? {}
    const opts = panel.options ?? {}
    const calc = opts.reduceOptions?.calcs?.[0] ?? 'lastNotNull'
    const wrap = document.createElement('div')
    wrap.className = 'stat'
    body.appendChild(wrap)
    const rect = body.getBoundingClientRect()
    const innerH = rect.height - 8
    const innerW = (rect.width - 16 - 8 * (series.length - 1)) / series.length
    const showName = series.length > 1
    for (const s of series) {
      const v = (CALCS[calc] ?? CALCS.lastNotNull).fn(values(s))
      const raw = v === null ? '' : String(v)
      const m = mapped(fc.mappings, raw)
      const c = m?.color ? color(m.color) : thresholdColor(fc, v)
      const text = m?.text ?? format(fc.unit ?? 'short', v, fc.decimals)
      const item = document.createElement('div')
      item.className = 'stat-item'
      // justifyMode auto: a lone value is centred.
      if (!showName) item.style.alignItems = 'center'
      const graph = opts.graphMode === 'area' && s.points.length > 1
      const background = opts.colorMode === 'background'
      if (background) item.style.background = `linear-gradient(120deg, ${c}, ${shade(c, -0.18)})`
      const valueSize = Math.max(14, Math.min(graph ? innerH * 0.42 : innerH * 0.55, (innerW / Math.max(text.length, 3)) * 1.6, 56))
      item.innerHTML =
        (showName ? `<div class="name" style="color:${background ? '#fff' : TEXT}">${esc(s.name)}</div>` : '') +
        `<div class="value" style="font-size:${valueSize.toFixed(0)}px;color:${background ? '#fff' : opts.colorMode === 'none' ? TEXT : c}">${esc(text)}</div>`
      if (graph) {
        item.style.justifyContent = 'flex-start'
        item.style.paddingTop = `${Math.max(2, innerH * 0.06)}px`
        sparkline(item, s.points, background ? 'rgba(255,255,255,0.8)' : c, Math.round(innerH * 0.45))
      }
      wrap.appendChild(item)
    }
  }

  /** A hex colour lighter (+) or darker (−) by a fraction. */
  function shade(hex, f) {
    const n = parseInt(hex.slice(1), 16)
    const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((x) =>
      Math.round(f < 0 ? x * (1 + f) : x + (255 - x) * f),
    )
    return `rgb(${ch.join(',')})`
  }

  function table(body, panel, data) {
    const t = panel.targets?.[0]
    const q = t && data.results[`${panel.id}/${t.refId}`]
    if (!q || q.error || !q.result.length) return noData(body)
    // A frame as Grafana builds it from an instant vector in table format: Time, the labels, Value.
    const labelNames = [...new Set(q.result.flatMap((s) => Object.keys(s.metric)))].filter((k) => k !== '__name__').sort()
    let fields = ['Time', ...labelNames, 'Value']
    let rows = q.result.map((s) => {
      const r = { Time: ymdhms(s.value[0] * 1000), Value: s.value[1] }
      for (const k of labelNames) r[k] = s.metric[k] ?? ''
      return r
    })
    const rename = {}
    for (const tr of panel.transformations ?? []) {
      if (tr.id === 'organize') {
        const o = tr.options ?? {}
        fields = fields.filter((f) => !(o.excludeByName ?? {})[f])
        const idx = o.indexByName ?? {}
        fields.sort((a, b) => (idx[a] ?? 1000) - (idx[b] ?? 1000))
        Object.assign(rename, o.renameByName ?? {})
      } else if (tr.id === 'sortBy') {
        const s = tr.options?.sort?.[0]
        if (s) rows.sort((a, b) => String(a[s.field]).localeCompare(String(b[s.field]), 'en', { numeric: true }) * (s.desc ? -1 : 1))
      }
    }
    const overrides = {}
    for (const o of panel.fieldConfig?.overrides ?? []) {
      if (o.matcher?.id !== 'byName') continue
      const props = (overrides[o.matcher.options] ??= {})
      for (const p of o.properties ?? []) props[p.id] = p.value
    }
    const wrap = document.createElement('div')
    wrap.className = 'table-wrap'
    let html = '<table class="grid"><thead><tr>' + fields.map((f) => `<th>${esc(rename[f] || f)}</th>`).join('') + '</tr></thead><tbody>'
    for (const r of rows) {
      html += '<tr>'
      for (const f of fields) {
        const ov = overrides[f] ?? {}
        const m = mapped(ov.mappings, r[f])
        const bg = ov['custom.cellOptions']?.type === 'color-background' && m?.color ? color(m.color) : null
        html += bg
          ? `<td style="background:${bg};color:#fff">${esc(m.text ?? r[f])}</td>`
          : `<td>${esc(m?.text ?? r[f])}</td>`
      }
      html += '</tr>'
    }
    wrap.innerHTML = html + '</tbody></table>'
    body.appendChild(wrap)
  }

  function heatmap(body, panel, data) {
    const series = seriesOf(panel, data)
    if (!series.length) return noData(body)
    const opts = panel.options ?? {}
    const unit = opts.yAxis?.unit ?? 'short'
    const le = (s) => (s.metric.le === '+Inf' ? Infinity : Number(s.metric.le))
    series.sort((a, b) => le(a) - le(b))
    // format "heatmap": cumulative buckets → counts per bucket, per time.
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b)
    const at = series.map((s) => new Map(s.points.map((p) => [p[0], p[1]])))
    const cells = []
    let max = 0
    times.forEach((t, xi) => {
      let prev = 0
      series.forEach((_, yi) => {
        const cum = at[yi].get(t)
        if (cum === undefined || cum === null) return
        const v = Math.max(0, cum - prev)
        prev = cum
        if (v > (opts.filterValues?.le ?? 0)) {
          cells.push([xi, yi, v])
          max = Math.max(max, v)
        }
      })
    })
    if (!cells.length) return noData(body)
    const exponent = opts.color?.scale === 'exponential' ? opts.color.exponent ?? 0.5 : 1
    const wrap = document.createElement('div')
    wrap.className = 'hm'
    const chartEl = document.createElement('div')
    chartEl.className = 'chart'
    wrap.appendChild(chartEl)
    if (opts.legend?.show !== false) {
      const scale = document.createElement('div')
      scale.className = 'scale'
      scale.innerHTML = `<span>0</span><span class="bar" style="background:linear-gradient(90deg, ${ORANGES.join(', ')})"></span><span>${esc(format('short', max))}</span>`
      wrap.appendChild(scale)
    }
    body.appendChild(wrap)
    const yLabels = series.map((s) => (le(s) === Infinity ? '+Inf' : axisFormat(unit, le(s))))
    const chart = echarts.init(chartEl, null, { renderer: 'canvas' })
    const step = Math.max(1, Math.round(times.length / 6))
    chart.setOption({
      animation: false,
      grid: { left: 4, right: 12, top: 8, bottom: 4, containLabel: true },
      xAxis: {
        type: 'category',
        data: times.map(hms),
        axisLabel: { color: TEXT2, fontSize: 11, interval: step - 1 },
        axisLine: { lineStyle: { color: GRID_LINE } },
        axisTick: { show: false },
        splitLine: { show: false },
      },
      yAxis: {
        type: 'category',
        data: yLabels,
        axisLabel: { color: TEXT2, fontSize: 10 },
        axisLine: { lineStyle: { color: GRID_LINE } },
        axisTick: { show: false },
      },
      visualMap: { show: false, min: 0, max: 1, dimension: 3, inRange: { color: ORANGES } },
      series: [
        {
          type: 'heatmap',
          data: cells.map(([x, y, v]) => [x, y, v, Math.pow(v / max, exponent)]),
          itemStyle: { borderColor: '#181b1f', borderWidth: opts.cellGap ?? 1 },
          emphasis: { disabled: true },
        },
      ],
    })
  }

  function noData(body) {
    body.innerHTML = '<div class="nodata">No data</div>'
  }

  const DRAW = { timeseries, stat, table, heatmap }

  // ------------------------------------------------------------------------------------------ the dashboard

  window.renderDashboard = function (data) {
    const d = data.dashboard
    document.getElementById('caption-text').textContent = data.caption
    document.getElementById('dash-title').textContent = d.title
    document.getElementById('timerange').textContent = `${ymdhms(data.start * 1000)} to ${ymdhms(data.end * 1000)}`
    const vars = document.getElementById('vars')
    for (const v of d.templating?.list ?? []) {
      if (v.hide === 2) continue
      const value = v.type === 'datasource' ? 'Prometheus' : 'All'
      vars.insertAdjacentHTML(
        'beforeend',
        `<div class="var"><span class="label">${esc(v.label ?? v.name)}</span><span class="value">${value}<span class="caret">▼</span></span></div>`,
      )
    }
    const grid = document.getElementById('grid')
    const width = grid.getBoundingClientRect().width
    let bottom = 0
    for (const p of d.panels) {
      const g = geometry(p.gridPos, width)
      bottom = Math.max(bottom, g.top + g.height)
      if (p.type === 'row') {
        const el = document.createElement('div')
        el.className = 'row'
        place(el, g)
        el.innerHTML = `${CHEVRON}<span>${esc(p.title)}</span>`
        grid.appendChild(el)
        continue
      }
      const el = document.createElement('div')
      el.className = 'panel'
      place(el, g)
      el.innerHTML =
        `<div class="panel-header"><span class="panel-title">${esc(p.title)}</span>${p.description ? INFO_ICON : ''}</div>` +
        '<div class="panel-body"></div>'
      grid.appendChild(el)
      const body = el.querySelector('.panel-body')
      const draw = DRAW[p.type]
      if (draw) draw(body, p, data)
      else body.innerHTML = `<div class="nodata">panel type ${esc(p.type)} is not drawn by this preview</div>`
    }
    grid.style.height = `${bottom}px`
    window.renderDone = true
  }
})()
