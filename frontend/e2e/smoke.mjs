// Smoke test: the UI served at BASE_URL renders its login page in a real headless Chromium.
// With GAIA_ADMIN_KEY it also signs in with that key and visits every screen of the menu.
//
//   BASE_URL=http://127.0.0.1:18123 [GAIA_ADMIN_KEY=gaia_…] [SCREENSHOT_DIR=…] node e2e/smoke.mjs
//
// Exit code 0 when every check passed; screenshots are written to the folder printed at the end.

import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

const base = (process.env.BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '')
const adminKey = process.env.GAIA_ADMIN_KEY ?? ''
const here = dirname(fileURLToPath(import.meta.url))
const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const outDir = resolve(process.env.SCREENSHOT_DIR ?? join(here, 'screenshots', stamp))
mkdirSync(outDir, { recursive: true })

const browser = await chromium.launch({
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

const failures = []
const consoleErrors = []
let shot = 0

function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failures.push(what)
}

async function screenshot(page, name) {
  const file = join(outDir, `${String(++shot).padStart(2, '0')}-${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
}

try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, locale: 'en-US' })
  const page = await context.newPage()
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text())
  })
  page.on('pageerror', (err) => consoleErrors.push(String(err)))

  // ---- the login page ----
  const res = await page.goto(`${base}/`, { waitUntil: 'networkidle' })
  check(res?.ok() ?? false, `GET ${base}/ answers ${res?.status()}`)
  check(/\/login/.test(page.url()), `signed-out visitors land on /login (${page.url()})`)
  const heading = page.getByTestId('login-heading')
  await heading.waitFor({ timeout: 10_000 }).catch(() => {})
  check(await heading.isVisible(), 'the login heading is visible')
  check((await heading.textContent())?.includes('Sign in') ?? false, 'the heading is in English for an English browser')
  const tab = (name) => page.locator('.arco-tabs-tab', { hasText: name })
  check(await tab('Username & password').isVisible(), 'the username/password tab is there')
  check(await tab('API key').isVisible(), 'the API-key tab is there')
  check(await page.getByTestId('username').isVisible(), 'the username field is visible')
  await screenshot(page, 'login-en')

  // Validation without a server round trip.
  await page.getByTestId('login-submit').click()
  check(await page.getByText('Enter your username').isVisible(), 'an empty form shows a validation message')

  // Deep links come back to the login page with the target remembered.
  await page.goto(`${base}/organizations`, { waitUntil: 'networkidle' })
  check(
    /\/login\?redirect=(%2F|\/)organizations/.test(page.url()),
    `a deep link redirects to login and remembers the page (${page.url()})`,
  )

  // Switch to Chinese.
  await page.getByText('中文').click()
  check((await heading.textContent())?.includes('登录') ?? false, 'switching to 中文 translates the page')
  await screenshot(page, 'login-zh')
  await page.getByText('English').click()

  // ---- every screen, signed in with the admin key ----
  if (adminKey) {
    await tab('API key').click()
    await page.getByTestId('api-key').locator('input').fill(adminKey)
    await page.getByTestId('key-submit').click()
    await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 10_000 }).catch(() => {})
    check(!page.url().includes('/login'), `signing in with the admin key leaves the login page (${page.url()})`)
    check(page.url().includes('/organizations'), 'and returns to the remembered page')
    await page.waitForLoadState('networkidle')
    await page.waitForTimeout(500)
    await screenshot(page, 'organizations')

    for (const path of ['dashboard', 'api-keys', 'models', 'users', 'playground', 'api-usage']) {
      await page.goto(`${base}/${path}`, { waitUntil: 'networkidle' })
      await page.waitForTimeout(700)
      check(!page.url().includes('/login'), `/${path} opens while signed in`)
      await screenshot(page, path)
    }
    await page.goto(`${base}/models`, { waitUntil: 'networkidle' })
    await page.locator('.arco-tabs-tab', { hasText: 'Aliases' }).click()
    await page.waitForTimeout(500)
    await screenshot(page, 'models-aliases')

    await page.getByTestId('account-menu').click()
    await page.getByTestId('logout').click()
    await page.waitForURL((u) => u.pathname.startsWith('/login'), { timeout: 5_000 }).catch(() => {})
    check(page.url().includes('/login'), 'signing out returns to the login page')
  }

  const unexpected = consoleErrors.filter((e) => !/favicon|status of 404|status of 403/.test(e))
  check(unexpected.length === 0, `no console errors${unexpected.length ? `: ${unexpected.join(' | ')}` : ''}`)
} catch (e) {
  failures.push(String(e))
  console.error(e)
} finally {
  await browser.close()
}

console.log(`screenshots: ${outDir}`)
if (failures.length > 0) {
  console.log(`${failures.length} check(s) failed`)
  process.exit(1)
}
console.log('smoke test passed')
