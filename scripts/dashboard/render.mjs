// Checks and renders the Grafana dashboard docs/deployment/grafana/gaiarouter-dashboard.json against a real
// Prometheus (normally started by scripts/dashboard.sh, which also starts the gateways and the traffic).
//
//   node scripts/dashboard/render.mjs --prometheus http://127.0.0.1:9090 --start UNIX --end UNIX \
//        [--scrape-interval 5] [--dashboard FILE.json] [--out dashboard.png] [--summary summary.txt] \
//        [--chromium /usr/bin/chromium] [--job REGEX] [--instance REGEX] [--provider REGEX]
//
// 1. Every target of every panel (rows excepted) is queried as Grafana would: the variables substituted
//    ($job, $instance, $provider: `.*`, Grafana's "All", or the values given; $__rate_interval =
//    max(4 × scrape interval, step + scrape interval); $__range = the window; $__interval = the step),
//    `/api/v1/query_range` over the window, or `/api/v1/query` at its end for `instant` / `format: table`
//    targets. The queries are made here, in Node, and their results handed to the page.
// 2. THE CHECK: each target must return at least one series with at least one number (an instant query:
//    one sample), and no query may fail. One line per panel is printed (title, series per target); the
//    exit code is 1 when a target came back empty or failed, listing each (panel, expression), unless the
//    target is in ALLOWED_EMPTY below (with its reason).
// 3. page.html + page.js (ECharts from frontend/node_modules) draw the panels in Grafana's layout — its
//    24-column grid from each panel's gridPos (30 px rows, 8 px margins), row headers, a dark theme like
//    Grafana's — in headless Chromium (playwright-core), and a full-page screenshot is written to --out.
//    The page says at the top that it is our preview, not Grafana.
import { readFileSync, writeFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const require = createRequire(join(root, 'frontend/package.json'))
const { chromium } = require('playwright-core')

// Targets allowed to come back empty, by panel title and refId, each with the reason. Keep it empty unless a
// family truly cannot get data in this setup: the traffic of scripts/dashboard/traffic.py is there to make
// every panel show something.
const ALLOWED_EMPTY = [
  // { panel: 'Title', refId: 'A', reason: 'why it cannot have data here' },
]

const VIEWPORT_WIDTH = 1600
const PNG_BUDGET_BYTES = 1.5 * 1024 * 1024

// ---------------------------------------------------------------------------------------------- arguments

function parseArgs(argv) {
  const args = {
    prometheus: 'http://127.0.0.1:9090',
    dashboard: join(root, 'docs/deployment/grafana/gaiarouter-dashboard.json'),
    out: join(root, 'target/dashboard/dashboard.png'),
    summary: '',
    chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    'scrape-interval': '5',
    job: '.*',
    instance: '.*',
    provider: '.*',
  }
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '')
    if (!(name in args) && !['start', 'end', 'step'].includes(name)) throw new Error(`unknown option ${argv[i]}`)
    args[name] = argv[i + 1]
  }
  if (!args.start || !args.end) throw new Error('--start and --end (unix seconds) are required')
  return args
}

const args = parseArgs(process.argv)
const start = Number(args.start)
const end = Number(args.end)
const scrape = Number(args['scrape-interval'])
// Grafana's step for a short range is the data source's scrape interval (its "min interval").
const step = Number(args.step ?? scrape)
const rangeSecs = end - start
const rateInterval = Math.max(4 * scrape, step + scrape)
const dashboard = JSON.parse(readFileSync(args.dashboard, 'utf8'))

// ---------------------------------------------------------------------------------------------- queries

/** The expression with the dashboard's variables substituted as Grafana does. */
function interpolate(expr) {
  const vars = {
    job: args.job,
    instance: args.instance,
    provider: args.provider,
    __rate_interval: `${rateInterval}s`,
    __interval: `${step}s`,
    __range: `${rangeSecs}s`,
    __range_s: `${rangeSecs}`,
    __range_ms: `${rangeSecs * 1000}`,
  }
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (m, a, b) => {
    const name = a ?? b
    return name in vars ? vars[name] : m
  })
}

async function promQuery(target) {
  const expr = interpolate(target.expr)
  const instant = target.instant === true || target.format === 'table'
  const params = new URLSearchParams({ query: expr })
  if (instant) params.set('time', String(end))
  else {
    params.set('start', String(start))
    params.set('end', String(end))
    params.set('step', `${step}s`)
  }
  const url = `${args.prometheus.replace(/\/$/, '')}/api/v1/${instant ? 'query' : 'query_range'}`
  let body
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: params,
    })
    body = await res.json()
  } catch (err) {
    return { expr, instant, error: `request failed: ${err.message}`, result: [] }
  }
  if (body.status !== 'success') return { expr, instant, error: `${body.errorType}: ${body.error}`, result: [] }
  return { expr, instant, resultType: body.data.resultType, result: body.data.result, warnings: body.warnings ?? [] }
}

/** Series with at least one number (NaN and ±Inf are gaps in Grafana, not data). */
function seriesWithData(q) {
  const finite = (v) => Number.isFinite(Number(v))
  if (q.resultType === 'matrix') return q.result.filter((s) => s.values.some(([, v]) => finite(v))).length
  if (q.resultType === 'vector') return q.result.filter((s) => finite(s.value[1])).length
  if (q.resultType === 'scalar') return finite(q.result[1]) ? 1 : 0
  return 0
}

const panels = dashboard.panels.filter((p) => p.type !== 'row')
const results = {}
await Promise.all(
  panels.flatMap((p) =>
    (p.targets ?? []).map(async (t) => {
      const q = await promQuery(t)
      results[`${p.id}/${t.refId}`] = q
    }),
  ),
)

// ---------------------------------------------------------------------------------------------- the check

const problems = []
const allowed = []
const lines = []
const pad = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s.padEnd(n))
for (const p of panels) {
  const counts = []
  let bad = false
  for (const t of p.targets ?? []) {
    const q = results[`${p.id}/${t.refId}`]
    const n = q.error ? 0 : seriesWithData(q)
    counts.push(`${t.refId}=${q.error ? 'ERROR' : n}`)
    for (const w of q.warnings ?? []) lines.push(`   warning (${p.title} ${t.refId}): ${w}`)
    if (q.error || n === 0) {
      const allow = ALLOWED_EMPTY.find((a) => a.panel === p.title && a.refId === t.refId)
      if (allow && !q.error) {
        allowed.push(`${p.title} [${t.refId}]: ${allow.reason}`)
        continue
      }
      bad = true
      problems.push(`${p.title} [${t.refId}] ${q.error ? `failed: ${q.error}` : 'returned nothing'}\n      ${q.expr}`)
    }
  }
  const total = (p.targets ?? []).reduce((s, t) => s + seriesWithData(results[`${p.id}/${t.refId}`]), 0)
  lines.push(`${bad ? 'FAIL' : ' ok '} ${pad(p.type, 10)} ${pad(p.title, 52)} ${String(total).padStart(3)} series  (${counts.join(' ')})`)
}
const header =
  `dashboard check: ${panels.length} panels, ${Object.keys(results).length} queries, window ${new Date(start * 1000).toISOString()} – ` +
  `${new Date(end * 1000).toISOString()} (${rangeSecs} s, step ${step}s, $__rate_interval ${rateInterval}s, $__range ${rangeSecs}s)`
const summary = [header, ...lines]
if (allowed.length) summary.push('allowed to be empty:', ...allowed.map((a) => `   ${a}`))
if (problems.length) summary.push(`${problems.length} target(s) without data:`, ...problems.map((p) => `   ${p}`))
else summary.push('every query returned data')
console.log(summary.join('\n'))
if (args.summary) writeFileSync(args.summary, summary.join('\n') + '\n')

// ---------------------------------------------------------------------------------------------- the page

const data = {
  dashboard,
  results,
  start,
  end,
  step,
  rateInterval,
  caption:
    'GaiaRouter overview — panels of gaiarouter-dashboard.json rendered by scripts/dashboard.sh from a real Prometheus (not Grafana)',
  problems: problems.length,
}
const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
})
let rendered = false
try {
  const page = await browser.newPage({ viewport: { width: VIEWPORT_WIDTH, height: 1000 }, deviceScaleFactor: 1 })
  const pageErrors = []
  page.on('pageerror', (e) => pageErrors.push(e.message))
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()))
  await page.setContent(readFileSync(join(here, 'page.html'), 'utf8'))
  await page.addScriptTag({ path: join(root, 'frontend/node_modules/echarts/dist/echarts.min.js') })
  await page.addScriptTag({ path: join(here, 'page.js') })
  await page.evaluate((d) => window.renderDashboard(d), data)
  await page.waitForFunction(() => window.renderDone === true, null, { timeout: 30_000 })
  if (pageErrors.length) throw new Error(`the page failed: ${pageErrors.join('; ')}`)
  await page.screenshot({ path: args.out, fullPage: true })
  rendered = true
} finally {
  await browser.close()
}
const bytes = statSync(args.out).size
console.log(`screenshot: ${args.out} (${(bytes / 1024).toFixed(0)} KiB)`)
if (bytes > PNG_BUDGET_BYTES) console.log(`warning: the PNG is above ${(PNG_BUDGET_BYTES / 1048576).toFixed(1)} MiB`)
process.exit(problems.length || !rendered ? 1 : 0)
