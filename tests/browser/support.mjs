// What every browser test shares: Debian's Chromium driven by playwright-core (from
// ui/node_modules: no browser download, ever), one hmis whose address is HMIS_URL (started
// by tests/api/browser.rs with the users and patients named in the HMIS_* variables),
// signed-in contexts, and a watch on every page for console errors, CSP violations and
// server errors, which each test asserts are none (`clean()`).
//
// Run: `cargo test --test api browser -- --nocapture` (it sets everything), or by hand
// against a running hmis: HMIS_URL=http://127.0.0.1:8000 HMIS_PASSWORD=... node --test
// --test-concurrency=1 tests/browser/
import assert from 'node:assert/strict'
import { mkdirSync, copyFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { after, before } from 'node:test'
import { fileURLToPath } from 'node:url'

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(join(repo, 'ui', 'package.json'))
const { chromium } = require('playwright-core')

/** Where Debian's package puts Chromium (scripts/install-deps installs it). */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * As root, on a closed network (see /work/shared/STACK-NOTES.md): no sandbox, no GPU, and
 * none of the background connections a new profile opens. Playwright gives every launch a
 * fresh temporary profile (its own --user-data-dir, removed on close).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

function required(name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run these tests through \`cargo test --test api browser\``)
  return value
}

/** The hmis under test and who and what the Rust side created in it. */
export const env = {
  url: required('HMIS_URL').replace(/\/$/, ''),
  password: required('HMIS_PASSWORD'),
  /** A nurse of Quthing: registers, records vitals, searches. */
  nurse: process.env.HMIS_NURSE || 'nurse.quthing',
  /** A clinician of Quthing: gets the notifications of Quthing's patients. */
  clinician: process.env.HMIS_CLINICIAN || 'clinician.quthing',
  /** A system admin (every region). */
  admin: process.env.HMIS_ADMIN || 'admin',
  /** A planner (statistics, never a patient record). */
  planner: process.env.HMIS_PLANNER || 'planner',
  /** A nurse of Quthing whose sessions the ended-session scenario ends. */
  leaver: process.env.HMIS_LEAVER || 'nurse.leaver',
  /** A Quthing patient with a few readings in the last days. */
  patient: {
    id: required('HMIS_PATIENT_ID'),
    given: required('HMIS_PATIENT_GIVEN'),
    family: required('HMIS_PATIENT_FAMILY'),
  },
  /** A patient that exists only in Maseru. */
  maseru: {
    id: required('HMIS_MASERU_PATIENT_ID'),
    given: required('HMIS_MASERU_GIVEN'),
    family: required('HMIS_MASERU_FAMILY'),
    hrn: required('HMIS_MASERU_HRN'),
  },
  screenshots: process.env.HMIS_SCREENSHOTS || join(repo, 'target', 'screenshots'),
}

/** Playwright waits this long for anything to appear (a shared 2-core machine). */
export const TIMEOUT = 15_000

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })
}

/** Logs in over the API (no browser) and returns the bearer token. */
export async function apiToken(username, password = env.password) {
  const response = await fetch(`${env.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  const body = await response.json()
  assert.equal(response.status, 200, `login of ${username}: ${JSON.stringify(body)}`)
  return body.token
}

/** One API call with a bearer token; answers `{ status, body, headers }`. */
export async function apiCall(token, method, path, body) {
  const response = await fetch(`${env.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers }
}

/**
 * A new browser context (its own cookies) with one page, watched: console errors, uncaught
 * exceptions, CSP violations (a `securitypolicyviolation` listener added by the DevTools
 * protocol, to which the page's CSP does not apply) and answers of 500 and above. An API
 * answer of 4xx is the UI's business (a wrong password, a duplicate, a not-found), so the
 * console line Chromium prints for it is not counted.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options })
  context.setDefaultTimeout(TIMEOUT)
  const problems = []
  await context.exposeBinding('__hmisCspViolation', ({ page }, v) => {
    problems.push(`CSP violation on ${page.url()}: ${v.directive} blocked ${v.blocked} (${v.source}:${v.line})`)
  })
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__hmisCspViolation({
        directive: e.violatedDirective,
        blocked: e.blockedURI || 'inline',
        source: e.sourceFile,
        line: e.lineNumber,
      })
    })
  })
  const page = await context.newPage()
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    const text = message.text()
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return
    problems.push(`console error on ${page.url()}: ${text}`)
  })
  page.on('pageerror', (error) => problems.push(`uncaught exception on ${page.url()}: ${error.message}`))
  page.on('response', (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} from ${response.url()}`)
  })
  const sockets = []
  page.on('websocket', (ws) => sockets.push(ws.url()))
  const requests = []
  page.on('request', (request) => requests.push(request.url()))
  const visited = new Set()
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.add(frame.url())
  })
  return {
    context,
    page,
    problems,
    visited,
    /** The address of every WebSocket the page opened. */
    sockets,
    /** The address of every request the page made. */
    requests,
    /** Fails the test if anything went wrong on any screen this page showed. */
    clean() {
      assert.deepEqual(problems, [], `problems on ${[...visited].join(', ')}`)
    },
    close: () => context.close(),
  }
}

/**
 * A watched page signed in as `username` (the session cookie set by logging in through the
 * context's own request API, as the sign-in screen would), showing `hash` (default the
 * home screen) once the shell is there. `search` goes on the page's own address
 * (`?transport=poll`); `viewport` sets the window's size.
 */
export async function signedIn(browser, username, hash = '#/patients', { search = '', viewport } = {}) {
  const watched = await newPage(browser, viewport ? { viewport } : {})
  const response = await watched.context.request.post(`${env.url}/api/v1/auth/login`, {
    data: { username, password: env.password },
  })
  assert.equal(response.status(), 200, `login of ${username}: ${await response.text()}`)
  await open(watched.page, hash, search)
  await shell(watched.page).waitFor()
  return watched
}

/** Goes to a screen by its hash route, e.g. `#/patients/<id>` (a `?query` before it is kept). */
export async function open(page, hash, search = '') {
  await page.goto(`${env.url}/${search}${hash}`)
}

/** The shell's main navigation: there on every signed-in screen. */
export function shell(page) {
  return page.getByRole('navigation', { name: 'Main' })
}

/** The shell's live state ("Live", data-state="connected", once the socket or the poll is up). */
export function liveState(page) {
  return page.locator('[data-test="live-state"]')
}

/** Waits until the live state says connected. */
export async function live(page) {
  await page.locator('[data-test="live-state"][data-state="connected"]').waitFor()
}

/**
 * Saves a screenshot as HMIS_SCREENSHOTS/<name>.png (and, given `alsoAt`, there too): the
 * whole page, or with `{ fullPage: false }` what the window shows.
 */
export async function screenshot(page, name, alsoAt, { fullPage = true } = {}) {
  mkdirSync(env.screenshots, { recursive: true })
  const file = join(env.screenshots, `${name}.png`)
  await page.screenshot({ path: file, fullPage })
  if (alsoAt) {
    mkdirSync(dirname(alsoAt), { recursive: true })
    copyFileSync(file, alsoAt)
  }
  return file
}

/** A name nobody else has, for people registered by a test run (letters only). */
export function uniqueName(prefix) {
  const letters = 'abcdefghijklmnopqrstuvwxyz'
  let n = Date.now() * 1000 + Math.floor(Math.random() * 1000)
  let word = ''
  while (n > 0) {
    word += letters[n % 26]
    n = Math.floor(n / 26)
  }
  return prefix + word
}

/** One Chromium for a test file: launched before its first test, closed after its last. */
export function browserForThisFile() {
  const held = { browser: null }
  before(async () => {
    held.browser = await launch()
  })
  after(async () => {
    await held.browser?.close()
  })
  return held
}
