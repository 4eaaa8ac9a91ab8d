// The operator flow of issue #6 in a real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core) against a running gaiarouter whose providers point at mock-upstream:
//
//   sign in → create an organization → create a key and copy it → chat with the key (HTTP and playground)
//   → see the requests on the dashboard and in the request log → price an unpriced model → see a failing
//   channel open on the Channels screen and switch it off → revoke the key (now 401) → sign out,
//
// visiting and screenshotting every screen on the way. Normally started by scripts/e2e.sh, which starts
// the servers; by hand:
//
//   BASE_URL=http://127.0.0.1:8000 ADMIN_USER=admin ADMIN_PASSWORD=… [SCREENSHOT_DIR=…] node e2e/flow.mjs
//
// node:test prints the standard summary (`# pass N`, `# fail N`); the exit code is non-zero on failure.
// Steps depend on earlier ones: when a step's prerequisite failed it is skipped, not failed again.

import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

const base = (process.env.BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '')
const adminUser = process.env.ADMIN_USER ?? 'admin'
const adminPassword = process.env.ADMIN_PASSWORD ?? ''
const here = dirname(fileURLToPath(import.meta.url))
const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const outDir = resolve(process.env.SCREENSHOT_DIR ?? join(here, 'screenshots', stamp))
mkdirSync(outDir, { recursive: true })

/** How long the dashboard may take to show requests the gateway recorded (batched writes, rollups). */
const STATS_WAIT_MS = 15_000
const VIEWPORT = { width: 1280, height: 800 }

// Names unique per run, so the flow also works against a database that is not fresh; scripts/e2e.sh
// (fresh database) passes readable ones for the user-guide screenshots.
const run = Date.now().toString(36).slice(-5)
const orgName = process.env.E2E_ORG_NAME || `e2e-team-${run}`
const keyName = process.env.E2E_KEY_NAME || `e2e-key-${run}`
const MONTHLY_REQUESTS_LIMIT = 1000

/** What the steps learn; a later step that needs something missing is skipped. */
const state = {
  /** @type {import('playwright-core').Browser | null} */ browser: null,
  /** @type {import('playwright-core').BrowserContext | null} */ context: null,
  /** @type {import('playwright-core').Page | null} */ page: null,
  loggedIn: false,
  org: false,
  /** @type {string | null} */ key: null,
  /** Chat completions made with the key (and so expected in the statistics). */
  chats: 0,
  revoked: false,
  /** @type {import('playwright-core').Page | null} A second browser session, signed in with the key. */
  keyPage: null,
}
const consoleErrors = []
const pageErrors = []
let shotNo = 0

// ---------------------------------------------------------------- helpers

/** A test that is skipped when what it `needs` (keys of `state`) is missing. */
function step(name, needs, fn) {
  test(name, async (t) => {
    const missing = needs.filter((n) => !state[n])
    if (missing.length > 0) {
      t.skip(`an earlier step failed (missing: ${missing.join(', ')})`)
      return
    }
    try {
      await fn(t)
    } finally {
      // Leave no dialog or dropdown behind for the next step: start it from a freshly loaded page (the
      // session survives in sessionStorage).
      if (state.page && (await state.page.locator('.arco-modal:visible, .arco-trigger-popup:visible').count()) > 0) {
        await state.page.goto(`${base}/`, { waitUntil: 'networkidle' }).catch(() => {})
      }
    }
  })
}

/** The page; asserts there is one. */
function pg() {
  assert.ok(state.page, 'the browser page is open')
  return state.page
}

/** Screenshot into SCREENSHOT_DIR; `hideToasts` leaves out notifications left over from an earlier action. */
async function shoot(name, { fullPage = false, settle = 300, hideToasts = false } = {}) {
  const page = pg()
  await page.waitForTimeout(settle)
  const file = join(outDir, `${String(++shotNo).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path: file, fullPage, style: hideToasts ? '.arco-message-list { display: none !important; }' : undefined })
  return file
}

/** An Arco input (or textarea) by the data-testid on it or on its wrapper. */
function field(testId) {
  const id = JSON.stringify(testId)
  return pg().locator(
    `input[data-testid=${id}], textarea[data-testid=${id}], [data-testid=${id}] input, [data-testid=${id}] textarea`,
  )
}

/** The input of the form item labelled `label` inside `scope`. */
function labelled(scope, label) {
  return scope.locator('.arco-form-item', { has: pg().locator('.arco-form-item-label', { hasText: label }) }).locator('input, textarea').first()
}

/** The visible modal dialog (Arco renders closed ones hidden). */
function modal(title) {
  return pg().locator('.arco-modal:visible', { has: pg().locator('.arco-modal-title', { hasText: title }) })
}

/** Clicks a side-menu entry and waits for its page. */
async function menu(label, path) {
  const page = pg()
  await page.locator('.arco-menu-item', { hasText: label }).first().click()
  await page.waitForURL((u) => u.pathname === path, { timeout: 10_000 })
  await page.waitForLoadState('networkidle')
}

async function api(path, { token, method = 'GET', body } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  let json = null
  try {
    json = JSON.parse(text)
  } catch {
    // SSE or plain text.
  }
  return { status: res.status, text, json, headers: res.headers }
}

/** Concatenates the text deltas of an OpenAI-style SSE body; also returns whether it ended with [DONE]. */
function sseText(body) {
  let text = ''
  let done = false
  let usage = null
  for (const line of body.split('\n')) {
    if (!line.startsWith('data:')) continue
    const data = line.slice(5).trim()
    if (data === '[DONE]') {
      done = true
      continue
    }
    const chunk = JSON.parse(data)
    text += chunk.choices?.[0]?.delta?.content ?? ''
    if (chunk.usage) usage = chunk.usage
  }
  return { text, done, usage }
}

const digits = (s) => Number((s ?? '').replace(/[^\d]/g, '') || 'NaN')

async function waitUntil(what, fn, timeoutMs, intervalMs = 1000) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    last = await fn()
    if (last.ok) return last
    if (Date.now() > deadline) assert.fail(`${what} (waited ${timeoutMs / 1000} s): ${last.why}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

// ---------------------------------------------------------------- browser

before(async () => {
  assert.ok(adminPassword, 'ADMIN_PASSWORD is set (scripts/e2e.sh sets it)')
  state.browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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
  // playwright-core gives every context a fresh, temporary profile (its own --user-data-dir).
  state.context = await state.browser.newContext({ viewport: VIEWPORT, locale: 'en-US' })
  await state.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
  state.context.setDefaultTimeout(10_000)
  const page = await state.context.newPage()
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${msg.text()} (${page.url()})`)
  })
  page.on('pageerror', (err) => pageErrors.push(`${String(err)} (${page.url()})`))
  state.page = page
})

after(async () => {
  await state.browser?.close()
  console.log(`# screenshots: ${outDir}`)
})

// ---------------------------------------------------------------- the flow

step('the gateway serves the UI and signed-out visitors land on the login page', [], async () => {
  const page = pg()
  const res = await page.goto(`${base}/`, { waitUntil: 'networkidle' })
  assert.equal(res?.status(), 200, `GET / answers 200`)
  assert.match(page.url(), /\/login/)
  await page.getByTestId('login-heading').waitFor()
  assert.match((await page.getByTestId('login-heading').textContent()) ?? '', /Sign in/)
  await shoot('login')
})

step('the login page switches to Chinese and back', [], async () => {
  const page = pg()
  await page.locator('.lang').getByText('中文').click()
  await page.getByTestId('login-heading').filter({ hasText: '登录' }).waitFor()
  await shoot('login-zh')
  await page.locator('.lang').getByText('English').click()
  await page.getByTestId('login-heading').filter({ hasText: 'Sign in' }).waitFor()
})

step('a wrong password shows a readable error', [], async () => {
  const page = pg()
  await field('username').fill(adminUser)
  await field('password').fill('definitely-not-the-password')
  await page.getByTestId('login-submit').click()
  const err = page.getByTestId('login-error')
  await err.waitFor()
  const text = (await err.textContent()) ?? ''
  assert.ok(text.trim().length > 0, 'the error has a message')
  assert.doesNotMatch(text, /[{}]/, `the error is not raw JSON: ${text}`)
  assert.match(page.url(), /\/login/)
})

step('sign in with username and password', [], async () => {
  const page = pg()
  await field('username').fill(adminUser)
  await field('password').fill(adminPassword)
  await page.getByTestId('login-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 10_000 })
  await page.waitForLoadState('networkidle')
  await page.getByTestId('account-menu').waitFor()
  assert.match((await page.getByTestId('account-menu').textContent()) ?? '', new RegExp(adminUser))
  state.loggedIn = true
})

step('the side menu’s entries are links: Tab reaches them and Enter opens one', ['loggedIn'], async () => {
  const page = pg()
  const link = page.getByTestId('menu-organizations')
  assert.equal(await link.evaluate((el) => el.tagName), 'A', 'a menu entry is an <a>')
  // A real href: a middle click or "open in new tab" opens the page.
  assert.equal(new URL((await link.getAttribute('href')) ?? '', base).pathname, '/organizations')
  await page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined))
  let reached = false
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab')
    reached = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'menu-organizations')
  }
  assert.ok(reached, 'Tab reaches the Organizations entry')
  await page.keyboard.press('Enter')
  await page.waitForURL((u) => u.pathname === '/organizations', { timeout: 10_000 })
  await page.waitForLoadState('networkidle')
})

step('create an organization with a monthly request limit', ['loggedIn'], async (t) => {
  const page = pg()
  await menu('Organizations', '/organizations')
  await shoot('organizations-empty')

  await page.getByTestId('org-create').click()
  const dialog = modal('New organization')
  await dialog.waitFor()

  await t.test('the form validates before sending', async () => {
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.getByText('A name is required').first().waitFor()
  })

  await t.test('fill it in and save', async () => {
    await field('org-name').fill(orgName)
    await labelled(dialog, 'Description').fill('Model experiments of the research group')
    await labelled(dialog, 'Monthly requests').fill(String(MONTHLY_REQUESTS_LIMIT))
    await labelled(dialog, 'Requests per minute').fill('600')
    await shoot('organization-form')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await page.getByText(`Organization “${orgName}” created`).waitFor()
  })

  await t.test('it is in the table with its limit', async () => {
    const row = page.getByTestId('org-table').locator('.arco-table-tr', { hasText: orgName })
    await row.waitFor()
    await row.getByText('Active', { exact: true }).waitFor()
    await row.getByText(/0 of 1,000/).first().waitFor()
    state.org = true
    await shoot('organizations')
  })
})

step('create an API key for it, see the secret once and copy it', ['org'], async (t) => {
  const page = pg()
  await menu('API keys', '/api-keys')
  await page.getByTestId('key-create').click()
  const dialog = modal('New API key')
  await dialog.waitFor()

  await t.test('choose the organization and name the key', async () => {
    await dialog.getByTestId('org-select').click()
    await page.keyboard.type(orgName)
    await page.locator('.arco-select-option:visible', { hasText: orgName }).first().click()
    await field('key-name').fill(keyName)
    // read + write are ticked by default; admin is not.
    assert.ok(await dialog.getByRole('checkbox', { name: /^read/ }).isChecked(), 'read is ticked')
    assert.ok(await dialog.getByRole('checkbox', { name: /^write/ }).isChecked(), 'write is ticked')
    assert.ok(!(await dialog.getByRole('checkbox', { name: /^admin/ }).isChecked()), 'admin is not ticked')
    await shoot('key-form', { hideToasts: true })
    await dialog.getByRole('button', { name: 'Create' }).click()
  })

  await t.test('the secret is shown once, with a warning and a copy button', async () => {
    const secretModal = modal('Your new API key')
    await secretModal.waitFor()
    await secretModal.getByText('You will not see it again').waitFor()
    const secret = ((await page.getByTestId('secret-value').textContent()) ?? '').trim()
    assert.match(secret, /^gaia_/, 'the key starts with gaia_')
    await secretModal.getByTestId('copy').click()
    await page.getByText('Copied to the clipboard').first().waitFor()
    const copied = await page.evaluate(() => navigator.clipboard.readText())
    assert.equal(copied, secret, 'the clipboard holds the key')
    state.key = copied
    await shoot('key-secret')
    await secretModal.getByRole('button', { name: 'I have copied it' }).click()
    await secretModal.waitFor({ state: 'hidden' })
  })

  await t.test('the key is listed as active, without its secret', async () => {
    const row = page.getByTestId('key-table').locator('.arco-table-tr', { hasText: keyName })
    await row.waitFor()
    await row.getByText('Active', { exact: true }).waitFor()
    await row.getByText(orgName).waitFor()
    assert.ok(!((await row.textContent()) ?? '').includes(state.key ?? '∅'), 'the table does not show the secret')
    await shoot('api-keys')
  })
})

/** Models the key may use, one per provider where possible (for the by-provider chart). */
let chatModels = []

step('use the copied key for chat completions over HTTP', ['key'], async (t) => {
  const models = await api('/v1/models', { token: state.key })
  assert.equal(models.status, 200, `GET /v1/models with the key: ${models.text.slice(0, 200)}`)
  const ids = models.json.data.map((m) => m.id)
  const pick = (prefix, preferred) => (ids.includes(preferred) ? preferred : ids.find((id) => id.startsWith(prefix)))
  chatModels = [pick('openai/', 'openai/gpt-4o-mini'), pick('anthropic/', 'anthropic/claude-haiku-4-5'), pick('google/', 'google/gemini-2.0-flash')].filter(Boolean)
  assert.ok(chatModels.length > 0, `some model is available: ${ids.join(', ')}`)

  for (const [i, model] of chatModels.entries()) {
    await t.test(`${model}, not streamed`, async () => {
      const res = await api('/v1/chat/completions', {
        token: state.key,
        method: 'POST',
        body: { model, messages: [{ role: 'user', content: `hello number ${i}` }] },
      })
      assert.equal(res.status, 200, res.text.slice(0, 300))
      assert.equal(res.json.choices[0].message.content, `echo: hello number ${i}`)
      assert.ok(res.json.usage.total_tokens > 0, 'usage is reported')
      state.chats++
    })
  }

  await t.test(`${chatModels[0]}, streamed`, async () => {
    const res = await api('/v1/chat/completions', {
      token: state.key,
      method: 'POST',
      body: { model: chatModels[0], stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream me please' }] },
    })
    assert.equal(res.status, 200, res.text.slice(0, 300))
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/)
    const { text, done } = sseText(res.text)
    assert.equal(text, 'echo: stream me please')
    assert.ok(done, 'the stream ends with [DONE]')
    state.chats++
  })
})

step('the playground streams an answer with the key, token by token', ['key'], async () => {
  const page = pg()
  await menu('Playground', '/playground')
  await page.getByTestId('pg-model').waitFor()
  // Wait for the model list to load (the first model is preselected).
  await page.getByTestId('pg-model').locator('.arco-select-view-value').filter({ hasText: /\// }).waitFor()
  const apiKeyInput = labelled(page.locator('.page-card').first(), 'API key')
  await apiKeyInput.fill(state.key ?? '')

  // Record every text the answer bubble shows, to see it grow.
  await page.evaluate(() => {
    window.__answers = []
    const box = document.querySelector('[data-testid="pg-messages"]')
    new MutationObserver(() => {
      const el = [...document.querySelectorAll('[data-testid="pg-answer"] .text')].pop()
      if (el) window.__answers.push(el.textContent)
    }).observe(box, { subtree: true, childList: true, characterData: true })
  })
  const message = 'Hello from the browser end to end test'
  await field('pg-input').fill(message)
  await page.getByTestId('pg-send').click()
  const answer = page.getByTestId('pg-answer').last()
  await answer.filter({ hasText: `echo: ${message}` }).waitFor({ timeout: 15_000 })
  const stats = page.getByTestId('pg-stats').last()
  await stats.waitFor()
  const statsText = (await stats.textContent()) ?? ''
  assert.match(statsText, /in · .* out/, `usage is shown: ${statsText}`)
  assert.match(statsText, /total \d/, `latency is shown: ${statsText}`)
  const seen = await page.evaluate(() => [...new Set(window.__answers.filter((s) => s))])
  assert.ok(seen.length >= 3, `the answer grew in steps (saw ${seen.length}: ${JSON.stringify(seen)})`)
  state.chats++

  // A second, non-streamed turn.
  await page.getByText('Stream the answer').click()
  await field('pg-input').fill('and once more without streaming')
  await page.getByTestId('pg-send').click()
  await page.getByTestId('pg-answer').last().filter({ hasText: 'echo: and once more without streaming' }).waitFor()
  await page.getByTestId('pg-stats').nth(1).waitFor()
  state.chats++
  await shoot('playground')
})

step('the organization shows this month’s usage against its limit', ['key'], async () => {
  const page = pg()
  const expected = state.chats
  await menu('Organizations', '/organizations')
  const row = page.getByTestId('org-table').locator('.arco-table-tr', { hasText: orgName })
  await waitUntil(
    `the organization's request counter reaches ${expected}`,
    async () => {
      await page.getByRole('button', { name: 'Refresh' }).click()
      await page.waitForLoadState('networkidle')
      const text = (await row.textContent()) ?? ''
      const m = text.match(/([\d,]+) of 1,000/)
      const n = m ? digits(m[1]) : NaN
      return { ok: n >= expected, why: `the row says “${m?.[0] ?? text}”` }
    },
    STATS_WAIT_MS,
  )
  await shoot('organizations-usage')
})

step('the requests appear on the statistics dashboard', ['key'], async (t) => {
  const page = pg()
  const expected = state.chats

  await t.test('the statistics endpoints answer', async () => {
    const login = await api('/v1/admin/login', { method: 'POST', body: { username: adminUser, password: adminPassword } })
    const token = login.json?.token
    for (const path of ['/v1/stats', '/v1/requests']) {
      const res = await api(path, { token })
      assert.ok(
        res.status === 200,
        `GET ${path} answers ${res.status}${res.json?.error?.code === 'unknown_route' ? ' unknown_route: the statistics endpoints are not wired into this gaiarouter build yet' : ''}: ${res.text.slice(0, 200)}`,
      )
    }
  })

  await t.test(`the summary cards count the ${expected} requests`, async () => {
    await menu('Statistics', '/dashboard')
    await waitUntil(
      `the Requests card reaches ${expected}`,
      async () => {
        const error = page.getByTestId('stats-error')
        if (await error.isVisible()) {
          const why = ((await error.textContent()) ?? '').trim()
          if (/no route|unknown_route|404|not found/i.test(why)) return { ok: true, fatal: why }
        }
        const n = digits(await page.getByTestId('stat-requests').textContent())
        if (n >= expected) return { ok: true }
        await page.reload({ waitUntil: 'networkidle' })
        return { ok: false, why: `the card says ${Number.isNaN(n) ? 'nothing' : n}${(await error.isVisible()) ? `; ${(await error.textContent())?.trim()}` : ''}` }
      },
      STATS_WAIT_MS,
    ).then((r) => assert.ok(!r.fatal, `the dashboard cannot load statistics: ${r.fatal}`))
    const cards = (await page.locator('.cards').textContent()) ?? ''
    assert.match(cards, /Tokens/)
    assert.match(cards, /\$/, 'a cost is shown')
  })

  await t.test('the 7-day preset narrows the period and still counts them', async () => {
    const startInput = page.locator('.arco-picker-range input').first()
    const before = await startInput.inputValue()
    await page.locator('.arco-radio-button', { hasText: 'Last 7 days' }).click()
    await page.waitForFunction((b) => document.querySelector('.arco-picker-range input')?.value !== b, before)
    await page.waitForLoadState('networkidle')
    const days = (Date.parse(await page.locator('.arco-picker-range input').nth(1).inputValue()) - Date.parse(await startInput.inputValue())) / 86_400_000
    assert.equal(days, 6, 'the range spans 7 days')
    assert.ok(digits(await page.getByTestId('stat-requests').textContent()) >= expected, 'the requests are still counted')
  })

  await t.test('the charts have data', async () => {
    for (const title of ['Requests and cost over time', 'By model', 'By provider']) {
      const card = page.locator('.page-card', { has: page.locator('.arco-card-header', { hasText: title }) })
      await card.locator('canvas').first().waitFor()
      assert.ok(!(await card.locator('.chart-empty').isVisible()), `“${title}” is not empty`)
    }
    await page.mouse.move(0, 0)
    await shoot('dashboard', { fullPage: true, settle: 1200 })
    await shoot('dashboard-top', { settle: 0 })
  })

  await t.test('the request log lists them, with the key and the model', async () => {
    const log = page.getByTestId('request-log')
    await log.scrollIntoViewIfNeeded()
    const rows = log.locator('tbody tr.arco-table-tr:not(.arco-table-tr-empty)')
    await waitUntil(
      `the request log shows ${expected} rows`,
      async () => {
        const n = await rows.count()
        if (n >= expected) return { ok: true }
        await log.getByRole('button').last().click()
        await page.waitForLoadState('networkidle')
        return { ok: false, why: `it shows ${n}` }
      },
      STATS_WAIT_MS,
    )
    const text = (await log.textContent()) ?? ''
    assert.ok(text.includes(keyName), 'the key is named in the log')
    assert.ok(text.includes(chatModels[0]), `${chatModels[0]} is in the log`)
    assert.match(text, /200/)
    await log.screenshot({ path: join(outDir, `${String(++shotNo).padStart(2, '0')}-request-log.png`) })
  })

  await t.test('drill down into the organization', async () => {
    await menu('Organizations', '/organizations')
    const row = page.getByTestId('org-table').locator('.arco-table-tr', { hasText: orgName })
    await row.getByText('Statistics').click()
    await page.waitForURL((u) => u.pathname === '/dashboard' && u.searchParams.has('organization_id'))
    await page.getByTestId('stats-scope').filter({ hasText: `Organization: ${orgName}` }).waitFor()
    await waitUntil(
      'the organization’s Requests card is filled in',
      async () => {
        const n = digits(await page.getByTestId('stat-requests').textContent())
        return { ok: n >= expected, why: `it says ${n}` }
      },
      5000,
      500,
    )
    await shoot('dashboard-organization', { settle: 1200 })
  })
})

step('every other screen opens', ['loggedIn'], async (t) => {
  const page = pg()
  await t.test('models: the registry with providers and prices', async () => {
    await menu('Models', '/models')
    const table = page.getByTestId('model-table')
    await table.locator('.arco-table-tr', { hasText: 'openai/' }).first().waitFor()
    await field('model-search').fill('gpt-4o')
    await field('model-search').press('Enter')
    await page.waitForLoadState('networkidle')
    await shoot('models-search')
    await field('model-search').fill('')
    await field('model-search').press('Enter')
    await page.waitForLoadState('networkidle')
    await shoot('models')
    await page.locator('.arco-tabs-tab', { hasText: 'Aliases' }).click()
    await page.getByTestId('alias-create').waitFor()
    await shoot('models-aliases')
  })

  await t.test('API usage: snippets with this gateway’s base URL', async () => {
    await menu('API usage', '/api-usage')
    const baseUrl = (await page.getByTestId('usage-base-url').textContent()) ?? ''
    assert.equal(baseUrl.trim(), `${base}/v1`)
    assert.ok(((await page.locator('pre').first().textContent()) ?? '').includes(`${base}/v1`), 'the snippet has the base URL')
    await shoot('api-usage')
  })

  await t.test('admin users: the signed-in admin is listed', async () => {
    await menu('Admin users', '/users')
    await page.locator('.arco-table-tr', { hasText: adminUser }).first().waitFor()
    await shoot('users')
  })

  await t.test('the language switches to Chinese and back', async () => {
    await page.getByTestId('locale-switch').click()
    await page.locator('.arco-dropdown-option', { hasText: '中文' }).click()
    await page.locator('.arco-menu-item', { hasText: '组织' }).waitFor()
    await menu('统计', '/dashboard')
    await shoot('dashboard-zh', { settle: 1200 })
    await page.getByTestId('locale-switch').click()
    await page.locator('.arco-dropdown-option', { hasText: 'English' }).click()
    await page.locator('.arco-menu-item', { hasText: 'Organizations' }).waitFor()
  })
})

step('an unpriced model is marked, refused to a cost-limited key, counted apart and priced at 0', ['loggedIn'], async (t) => {
  const page = pg()
  // Registered over the admin API without prices: nobody said what it costs.
  const login = await api('/v1/admin/login', { method: 'POST', body: { username: adminUser, password: adminPassword } })
  const admin = login.json?.token
  assert.ok(admin, `the admin signs in over the API: ${login.text.slice(0, 200)}`)
  const modelId = `openai/e2e-unpriced-${run}`
  const registered = await api('/v1/admin/models', { token: admin, method: 'POST', body: { id: modelId, display_name: 'E2E unpriced' } })
  assert.equal(registered.status, 201, registered.text.slice(0, 300))
  assert.equal(registered.json.priced, false, 'registered without prices, it is unpriced')

  // Two keys of one organization: one without a cost limit (served, its request marked unpriced) and one
  // with a cost limit (refused on the unpriced model).
  const made = await api('/v1/organizations', { token: admin, method: 'POST', body: { name: `${orgName}-pricing` } })
  assert.equal(made.status, 201, made.text.slice(0, 200))
  const newKey = async (name, limits) => {
    const res = await api('/v1/api-keys', {
      token: admin,
      method: 'POST',
      body: { organization_id: made.json.id, name, permissions: ['read', 'write'], ...limits },
    })
    assert.equal(res.status, 201, res.text.slice(0, 300))
    return res.json.key
  }
  const openKey = await newKey(`unlimited-${run}`, {})
  const cappedKey = await newKey(`cost-capped-${run}`, { monthly_cost_limit: 5 })
  const chat = (token) =>
    api('/v1/chat/completions', {
      token,
      method: 'POST',
      body: { model: modelId, messages: [{ role: 'user', content: 'what do I cost?' }] },
    })

  await t.test('a key without a cost limit is served on it', async () => {
    const res = await chat(openKey)
    assert.equal(res.status, 200, res.text.slice(0, 300))
    assert.equal(res.json.choices[0].message.content, 'echo: what do I cost?')
  })

  await t.test('the playground shows why a key with a cost limit is refused on it', async () => {
    await menu('Playground', '/playground')
    await page.getByTestId('pg-model').locator('.arco-select-view-value').filter({ hasText: /\// }).waitFor()
    await page.getByTestId('pg-model').click()
    await page.keyboard.type(modelId)
    const option = page.locator('.arco-select-option:visible', { hasText: modelId }).first()
    await option.getByText('unpriced: refused to keys with a cost limit').waitFor()
    await option.click()
    await labelled(page.locator('.page-card').first(), 'API key').fill(cappedKey)
    await field('pg-input').fill('what do I cost?')
    await page.getByTestId('pg-send').click()
    const error = page.locator('.turn-error').last()
    await error.waitFor()
    const text = (await error.textContent()) ?? ''
    assert.match(text, /has no known price/, `the refusal names the reason: ${text}`)
    assert.match(text, /cost limit/)
    assert.doesNotMatch(text, /[{}]/, `the message is readable, not JSON: ${text}`)
    await shoot('playground-unpriced', { hideToasts: true })
  })

  await t.test('the dashboard counts the unpriced request apart from the cost', async () => {
    await menu('Statistics', '/dashboard')
    const note = page.getByTestId('stat-unpriced')
    await waitUntil(
      'the Cost card notes the unpriced request',
      async () => {
        if (await note.isVisible()) return { ok: true }
        await page.reload({ waitUntil: 'networkidle' })
        return { ok: false, why: 'no unpriced note on the Cost card' }
      },
      STATS_WAIT_MS,
    )
    assert.ok(digits(await note.textContent()) >= 1, `it counts the request: ${await note.textContent()}`)
    await page.getByTestId('unpriced-models').getByText(modelId).waitFor()
    await shoot('dashboard-unpriced', { settle: 1200 })

    const log = page.getByTestId('request-log')
    await log.scrollIntoViewIfNeeded()
    await log.getByPlaceholder('Model', { exact: true }).fill(modelId)
    await log.getByPlaceholder('Model', { exact: true }).press('Enter')
    await page.waitForLoadState('networkidle')
    // The served request is marked unpriced after one upstream call; the refused one made none.
    const rows = log.locator('tbody tr.arco-table-tr', { hasText: modelId })
    const served = rows.filter({ has: page.getByTestId('log-unpriced') }).first()
    await served.waitFor()
    assert.equal(((await served.getByTestId('log-attempts').textContent()) ?? '').trim(), '1', 'one upstream call')
    const refused = rows.filter({ hasText: 'model_not_priced' }).first()
    await refused.waitFor()
    assert.equal(((await refused.getByTestId('log-attempts').textContent()) ?? '').trim(), '0', 'no upstream call')
    await log.screenshot({ path: join(outDir, `${String(++shotNo).padStart(2, '0')}-request-log-unpriced.png`) })
  })

  await t.test('the models list tags it Unpriced, with the reason', async () => {
    await menu('Models', '/models')
    await field('model-search').fill(modelId)
    await field('model-search').press('Enter')
    await page.waitForLoadState('networkidle')
    const row = page.getByTestId('model-table').locator('.arco-table-tr', { hasText: modelId })
    await row.waitFor()
    const tag = row.getByTestId('price-unpriced')
    await tag.waitFor()
    assert.equal(((await tag.textContent()) ?? '').trim(), 'Unpriced')
    assert.equal(await row.getByTestId('price-free').count(), 0)
    await tag.hover()
    await page.locator('.arco-tooltip-content:visible', { hasText: 'monthly cost limit' }).waitFor()
    await shoot('models-unpriced')
    await page.mouse.move(0, 0)
  })

  await t.test('the register form tells empty prices (unpriced) from 0 (free)', async () => {
    await page.getByRole('button', { name: 'Register model' }).click()
    const dialog = modal('Register a model by hand')
    await dialog.waitFor()
    await dialog.getByTestId('price-hint-unpriced').waitFor()
    await field('register-input-price').fill('0')
    await field('register-input-price').press('Tab')
    await dialog.getByTestId('price-hint-free').waitFor()
    assert.equal(await dialog.getByTestId('price-hint-unpriced').count(), 0)
    await shoot('model-register-free', { hideToasts: true })
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'hidden' })
  })

  await t.test('pricing it at 0 in the list makes it free', async () => {
    const row = page.getByTestId('model-table').locator('.arco-table-tr', { hasText: modelId })
    await row.getByTestId('price-edit').click()
    const dialog = modal('Model price')
    await dialog.waitFor()
    await dialog.getByText(modelId).waitFor()
    // Nothing entered: a PATCH needs a price, so the form says what to do.
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.locator('.arco-form-item-message', { hasText: 'Enter a price, or 0 for a free model' }).waitFor()
    await field('price-input').fill('0')
    await field('price-output').fill('0')
    await field('price-output').press('Tab')
    await dialog.getByTestId('price-hint-free').waitFor()
    await shoot('model-price', { hideToasts: true })
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'hidden' })
    await page.getByText(`${modelId} is now free`).waitFor()
    await row.getByTestId('price-free').waitFor()
    assert.equal(await row.getByTestId('price-unpriced').count(), 0, 'the Unpriced tag is gone')
    const after = await api(`/v1/admin/models?search=${encodeURIComponent(modelId)}`, { token: admin })
    const entry = after.json?.data?.find((m) => m.id === modelId)
    assert.deepEqual(
      { priced: entry?.priced, input: entry?.input_price_per_mtok, output: entry?.output_price_per_mtok },
      { priced: true, input: 0, output: 0 },
    )
    await shoot('models-free', { hideToasts: true })
    await field('model-search').fill('')
    await field('model-search').press('Enter')
  })

  await t.test('the key with a cost limit is now served on it', async () => {
    const res = await chat(cappedKey)
    assert.equal(res.status, 200, res.text.slice(0, 300))
  })
})

step('a failing channel is routed around, shown open with its recent errors, and switched off', ['loggedIn'], async (t) => {
  const page = pg()
  const login = await api('/v1/admin/login', { method: 'POST', body: { username: adminUser, password: adminPassword } })
  const admin = login.json?.token
  assert.ok(admin, `the admin signs in over the API: ${login.text.slice(0, 200)}`)

  // A key of its own organization to chat with, so the figures of the earlier steps stay as they were.
  const org = await api('/v1/organizations', { token: admin, method: 'POST', body: { name: `${orgName}-channels-${run}` } })
  assert.equal(org.status, 201, org.text.slice(0, 200))
  const made = await api('/v1/api-keys', {
    token: admin,
    method: 'POST',
    body: { organization_id: org.json.id, name: `channels-${run}`, permissions: ['read', 'write'] },
  })
  assert.equal(made.status, 201, made.text.slice(0, 300))
  const key = made.json.key
  const models = await api('/v1/models', { token: key })
  const ids = models.json?.data?.map((m) => m.id) ?? []
  // mock-upstream serves the provider "openai" (OPENAI_BASE_URL); its own endpoint is the channel "default".
  const model = ids.includes('openai/gpt-4o-mini') ? 'openai/gpt-4o-mini' : ids.find((id) => id.startsWith('openai/'))
  assert.ok(model, `an OpenAI model is available: ${ids.join(', ')}`)
  const chat = (text) =>
    api('/v1/chat/completions', { token: key, method: 'POST', body: { model, messages: [{ role: 'user', content: text }] } })

  // A second channel of the provider where nothing listens (connections are refused), in a higher priority
  // group with the largest weight, so every request tries it first. No key: none is needed to be refused,
  // and storing one would need GAIA_SECRET_KEY.
  const listed = await api('/v1/admin/channels', { token: admin })
  assert.equal(listed.status, 200, `GET /v1/admin/channels: ${listed.text.slice(0, 200)}`)
  assert.ok(listed.json.some((c) => c.id === 'config:openai:default' && c.source === 'config'), 'the provider’s own endpoint is listed as its configured channel')
  // A database that is not fresh may still hold the one of an earlier run.
  for (const old of listed.json.filter((c) => c.provider === 'openai' && c.name === 'e2e-broken' && c.source === 'database')) {
    const gone = await api(`/v1/admin/channels/${encodeURIComponent(old.id)}`, { token: admin, method: 'DELETE' })
    assert.equal(gone.status, 204, gone.text.slice(0, 200))
  }
  const created = await api('/v1/admin/channels', {
    token: admin,
    method: 'POST',
    body: { provider: 'openai', name: 'e2e-broken', base_url: 'http://127.0.0.1:9/v1', weight: 1000, priority: 10 },
  })
  assert.equal(created.status, 201, created.text.slice(0, 300))
  const channel = created.json
  assert.equal(channel.source, 'database')
  const channelUrl = `/v1/admin/channels/${encodeURIComponent(channel.id)}`

  await t.test('requests still succeed: each fails over to the default channel until the broken one’s circuit opens', async () => {
    for (let i = 0; i < 8; i++) {
      const res = await chat(`channel check ${i}`)
      assert.equal(res.status, 200, `request ${i}: ${res.text.slice(0, 300)}`)
      assert.equal(res.json.choices[0].message.content, `echo: channel check ${i}`)
    }
    const seen = await api(channelUrl, { token: admin })
    assert.equal(seen.status, 200, seen.text.slice(0, 200))
    const h = seen.json.health
    assert.ok(h.failures >= 5 && h.opened >= 1, `the failures opened its circuit: ${JSON.stringify(h).slice(0, 400)}`)
    assert.ok(h.recent_errors.length > 0, 'its recent errors are kept')
  })

  const row = page
    .getByTestId('channel-table')
    .locator('tbody tr.arco-table-tr', { has: page.getByTestId('channel-name').getByText('e2e-broken', { exact: true }) })
  const healthTag = row.getByTestId('channel-health')

  await t.test('the Channels screen shows it open, with its failures and recent errors', async () => {
    await menu('Channels', '/channels')
    await row.waitFor()
    // The providers' own endpoints are listed too, read-only.
    await page.getByTestId('channel-source').filter({ hasText: 'config' }).first().waitFor()
    await waitUntil(
      'the e2e-broken row shows its circuit open',
      async () => {
        if ((await healthTag.getAttribute('data-state')) === 'open') return { ok: true }
        // Its cooldown (5 s) ran out before the screen read it (half-open): a request probes it, fails
        // and opens it again, for twice as long.
        await chat('probe the broken channel')
        await page.getByRole('button', { name: 'Refresh' }).click()
        await page.waitForLoadState('networkidle')
        return { ok: false, why: `its health reads ${await healthTag.getAttribute('data-state')}: ${await healthTag.textContent()}` }
      },
      20_000,
      250,
    )
    assert.match(((await healthTag.textContent()) ?? '').trim(), /^Open · \d+ s$/, 'open, with the seconds left of its cooldown')
    const window = ((await row.getByTestId('channel-window').textContent()) ?? '').trim()
    assert.match(window, /^[1-9][\d,]* \/ [1-9][\d,]*$/, `failures / requests in the window: ${window}`)

    await row.locator('.arco-table-expand-btn').click()
    const errors = page.locator(`[data-testid="channel-errors"][data-channel="${channel.id}"]`)
    await errors.getByTestId('channel-error-code').first().waitFor()
    const fresh = await api(channelUrl, { token: admin })
    const codes = (await errors.getByTestId('channel-error-code').allTextContents()).map((s) => s.trim())
    assert.ok(codes.includes(fresh.json.health.recent_errors[0].code), `the errors listed (${codes.join(', ')}) are the channel’s`)
    await page.mouse.move(0, 0)
    await shoot('channels', { hideToasts: true })
  })

  await t.test('a test request through it reports the failure', async () => {
    await row.getByTestId('channel-test').click()
    const dialog = modal('Test channel “e2e-broken”')
    await dialog.waitFor()
    await dialog.getByRole('button', { name: 'Run test' }).click()
    const result = dialog.locator('[data-testid="channel-test-result"][data-ok="false"]')
    await result.waitFor({ timeout: 30_000 })
    assert.match((await result.textContent()) ?? '', /failed after/i)
    await shoot('channel-test', { hideToasts: true })
    // The footer's button (the × in the corner is named Close too).
    await dialog.locator('.arco-modal-footer').getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'hidden' })
  })

  await t.test('switching it off shows it disabled', async () => {
    const toggle = row.getByTestId('channel-enabled')
    assert.equal(await toggle.getAttribute('aria-checked'), 'true')
    await toggle.click()
    await page.getByText('Channel “e2e-broken” is now Disabled').waitFor()
    await row.locator('[data-testid="channel-health"][data-state="disabled"]').waitFor()
    assert.equal(((await healthTag.textContent()) ?? '').trim(), 'Disabled')
    await row.locator('[data-testid="channel-enabled"][aria-checked="false"]').waitFor()
    const after = await api(channelUrl, { token: admin })
    assert.equal(after.json?.enabled, false, after.text.slice(0, 300))
    await shoot('channels-disabled', { hideToasts: true })
    // Switched off, it is no longer tried: requests go straight to the default channel.
    const res = await chat('after the switch')
    assert.equal(res.status, 200, res.text.slice(0, 300))
  })
})

step('sign in with the new key: a write key sees only its own organization', ['key'], async () => {
  const context = await state.browser.newContext({ viewport: VIEWPORT, locale: 'en-US' })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(`${String(err)} (key session, ${page.url()})`))
  state.keyPage = page
  await page.goto(`${base}/login`, { waitUntil: 'networkidle' })
  await page.locator('.arco-tabs-tab', { hasText: 'API key' }).click()
  await page.locator('[data-testid="api-key"] input, input[data-testid="api-key"]').fill(state.key ?? '')
  await page.getByTestId('key-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  await page.waitForLoadState('networkidle')
  const menuText = (await page.locator('.arco-menu').textContent()) ?? ''
  assert.ok(!menuText.includes('Models') && !menuText.includes('Admin users'), `no admin pages in the menu: ${menuText}`)
  await page.locator('.arco-menu-item', { hasText: 'Organizations' }).click()
  await page.waitForURL((u) => u.pathname === '/organizations')
  await page.getByText('Your key belongs to this organization').waitFor()
  const rows = page.getByTestId('org-table').locator('tbody tr.arco-table-tr')
  await rows.filter({ hasText: orgName }).waitFor()
  assert.equal(await rows.count(), 1, 'only its own organization is listed')
  await page.waitForTimeout(300)
  await page.screenshot({ path: join(outDir, `${String(++shotNo).padStart(2, '0')}-key-session.png`) })
})

step('a key signed in to the UI sees why it cannot loosen itself', ['loggedIn'], async (t) => {
  // A write key with limits, made through the API by the admin (who has no ceiling).
  const login = await api('/v1/admin/login', { method: 'POST', body: { username: adminUser, password: adminPassword } })
  const admin = login.json?.token
  assert.ok(admin, `the admin signs in over the API: ${login.text.slice(0, 200)}`)
  const orgs = await api(`/v1/organizations?search=${encodeURIComponent(orgName)}`, { token: admin })
  let orgId = orgs.json?.data?.find((o) => o.name === orgName)?.id
  if (!orgId) {
    const made = await api('/v1/organizations', { token: admin, method: 'POST', body: { name: `${orgName}-limits` } })
    assert.equal(made.status, 201, made.text.slice(0, 200))
    orgId = made.json.id
  }
  const limitedName = `limited-${run}`
  const expires = new Date(Date.now() + 30 * 86_400_000).toISOString()
  const created = await api('/v1/api-keys', {
    token: admin,
    method: 'POST',
    body: {
      organization_id: orgId,
      name: limitedName,
      permissions: ['read', 'write'],
      expires_at: expires,
      monthly_requests_limit: 5,
      rate_limit_rpm: 60,
    },
  })
  assert.equal(created.status, 201, created.text.slice(0, 300))
  const limited = created.json

  const context = await state.browser.newContext({ viewport: VIEWPORT, locale: 'en-US' })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  page.on('pageerror', (err) => pageErrors.push(`${String(err)} (limited key session, ${page.url()})`))
  const input = (testId) => page.locator(`input[data-testid="${testId}"], [data-testid="${testId}"] input`)
  const shot = async (name) => {
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(outDir, `${String(++shotNo).padStart(2, '0')}-${name}.png`) })
  }
  try {
    await page.goto(`${base}/login`, { waitUntil: 'networkidle' })
    await page.locator('.arco-tabs-tab', { hasText: 'API key' }).click()
    await input('api-key').fill(limited.key)
    await page.getByTestId('key-submit').click()
    await page.waitForURL((u) => !u.pathname.startsWith('/login'))
    await page.locator('.arco-menu-item', { hasText: 'API keys' }).click()
    await page.waitForURL((u) => u.pathname === '/api-keys')
    await page.waitForLoadState('networkidle')
    const row = page.getByTestId('key-table').locator('.arco-table-tr', { hasText: limitedName })
    await row.getByText('Edit', { exact: true }).click()
    const dialog = page.locator('.arco-modal:visible', { has: page.locator('.arco-modal-title', { hasText: 'Edit API key' }) })
    await dialog.waitFor()
    const requests = input('limit-monthly_requests_limit')

    await t.test('its own edit form says why its limits are locked', async () => {
      const notice = dialog.getByTestId('key-ceiling-notice')
      await notice.getByText('This is the key you are signed in with: it can only tighten its own limits.').waitFor()
      await dialog.getByTestId('limit-reason-monthly_requests_limit').getByText('At most its current limit (5)').waitFor()
      await dialog.getByTestId('limit-reason-rate_limit_rpm').getByText('At most its current limit (60)').waitFor()
      await dialog.getByTestId('expiry-reason').getByText(/No later than its current expiry/).waitFor()
      assert.ok(await dialog.getByRole('checkbox', { name: /^admin/ }).isDisabled(), 'admin cannot be ticked')
      assert.ok(!(await dialog.getByRole('checkbox', { name: /^read/ }).isDisabled()), 'read may still be dropped')
      // Tokens and cost are unlimited on this key: setting them would only tighten it.
      assert.equal(await dialog.getByTestId('limit-reason-monthly_tokens_limit').count(), 0)
    })

    await t.test('the limit input is capped at its current value', async () => {
      assert.equal(await requests.inputValue(), '5')
      await requests.fill('50')
      await requests.press('Tab')
      await page.waitForFunction(
        (sel) => document.querySelector(sel)?.value === '5',
        '[data-testid="limit-monthly_requests_limit"] input, input[data-testid="limit-monthly_requests_limit"]',
      )
      await shot('key-self-limits')
    })

    await t.test('clearing it to unlimited is refused before anything is sent', async () => {
      await requests.fill('')
      await requests.press('Tab')
      await dialog.getByRole('button', { name: 'Save' }).click()
      await dialog.locator('.arco-form-item-message', { hasText: 'At most its current limit (5)' }).waitFor()
      assert.ok(await dialog.isVisible(), 'the dialog stays open')
    })

    await t.test('tightening it is still possible', async () => {
      await requests.fill('4')
      await requests.press('Tab')
      await dialog.getByRole('button', { name: 'Save' }).click()
      await dialog.waitFor({ state: 'hidden' })
      const after = await api(`/v1/api-keys/${limited.id}`, { token: admin })
      assert.equal(after.json?.monthly_requests_limit, 4, after.text.slice(0, 300))
      assert.equal(after.json?.rate_limit_rpm, 60, 'untouched limits stay')
    })

    await t.test('a key it creates is capped by its own limits, and inherits them when left empty', async () => {
      await page.getByTestId('key-create').click()
      const form = page.locator('.arco-modal:visible', { has: page.locator('.arco-modal-title', { hasText: 'New API key' }) })
      await form.waitFor()
      await form.getByTestId('limit-reason-monthly_requests_limit').getByText('At most your own key’s limit (4)').waitFor()
      assert.equal(await requests.getAttribute('placeholder'), 'inherits 4')
      assert.ok(await form.getByRole('checkbox', { name: /^admin/ }).isDisabled(), 'admin cannot be granted')
      await shot('key-create-capped')
      await form.getByRole('button', { name: 'Cancel' }).click()
      await form.waitFor({ state: 'hidden' })
    })

    await t.test('a refusal that still happens shows the server’s reason in the form', async () => {
      await row.getByText('Edit', { exact: true }).click()
      await dialog.waitFor()
      // An administrator tightens the key while its form is open; the form still allows up to 4.
      const tightened = await api(`/v1/api-keys/${limited.id}`, { token: admin, method: 'PATCH', body: { monthly_requests_limit: 2 } })
      assert.equal(tightened.status, 200, tightened.text.slice(0, 300))
      await requests.fill('3')
      await requests.press('Tab')
      await dialog.getByRole('button', { name: 'Save' }).click()
      await dialog.locator('.arco-form-item-message', { hasText: 'cannot loosen its own' }).waitFor()
      assert.ok(await dialog.isVisible(), 'the dialog stays open')
      await dialog.getByRole('button', { name: 'Cancel' }).click()
    })
  } finally {
    await context.close()
  }
})

step('revoke the key; it then gets 401', ['key'], async () => {
  const page = pg()
  await menu('API keys', '/api-keys')
  const row = page.getByTestId('key-table').locator('.arco-table-tr', { hasText: keyName })
  await row.getByText('Revoke', { exact: true }).click()
  const dialog = modal(`Revoke the key “${keyName}”?`)
  await dialog.waitFor()
  await dialog.getByText('cannot be undone').waitFor()
  await shoot('key-revoke-confirm')
  await dialog.getByRole('button', { name: 'Revoke' }).click()
  await page.getByText(`Key “${keyName}” revoked`).waitFor()
  await row.getByText('Revoked', { exact: true }).waitFor()
  state.revoked = true
  await shoot('api-keys-revoked')

  await waitUntil(
    'a chat with the revoked key is refused with 401',
    async () => {
      const res = await api('/v1/chat/completions', {
        token: state.key,
        method: 'POST',
        body: { model: chatModels[0] ?? 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] },
      })
      return { ok: res.status === 401, why: `it answered ${res.status}: ${res.text.slice(0, 200)}` }
    },
    10_000,
    500,
  )
})

step('the revoked key’s browser session ends with a message', ['revoked', 'keyPage'], async () => {
  const page = state.keyPage
  await page.reload({ waitUntil: 'networkidle' })
  await page.waitForURL((u) => u.pathname.startsWith('/login'))
  const notice = page.getByTestId('session-ended')
  await notice.waitFor()
  const text = (await notice.textContent()) ?? ''
  assert.match(text, /session has ended/i)
  assert.doesNotMatch(text, /[{}]/, `the message is readable: ${text}`)
  await page.waitForTimeout(300)
  await page.screenshot({ path: join(outDir, `${String(++shotNo).padStart(2, '0')}-session-ended.png`) })
  await page.context().close()
})

step('sign out returns to the login page, and pages need signing in again', ['loggedIn'], async () => {
  const page = pg()
  await page.getByTestId('account-menu').click()
  await page.getByTestId('logout').click()
  await page.waitForURL((u) => u.pathname.startsWith('/login'))
  await page.getByTestId('login-heading').waitFor()
  await page.goto(`${base}/api-keys`, { waitUntil: 'networkidle' })
  assert.match(page.url(), /\/login\?redirect=/, 'a deep link after sign-out goes to the login page')
  await shoot('signed-out')
})

step('no uncaught errors in the page', [], async () => {
  assert.deepEqual(pageErrors, [])
  // Failed requests the flow provokes on purpose (wrong password → 401) log a console error; anything
  // else is a bug.
  const unexpected = consoleErrors.filter((e) => !/favicon|the server responded with a status of 40[0-9]/.test(e))
  assert.deepEqual(unexpected, [])
})
