// Vital signs on the patient page: recording a set, seeing it in Latest vital signs, the
// chart of the seeded readings, and a reading recorded in one browser appearing in another
// without a reload, over the WebSocket and over the long-poll fallback (?transport=poll).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { browserForThisFile, env, live, repo, screenshot, signedIn } from './support.mjs'

const chromium = browserForThisFile()

const HEART_RATE = '8867-4'
const patientHash = `#/patients/${env.patient.id}`
const patientName = `${env.patient.given} ${env.patient.family}`

/** A watched page of `username` on the seeded patient's page, once its heading shows. */
async function onPatientPage(username, search = '') {
  const w = await signedIn(chromium.browser, username, patientHash, { search })
  await w.page.getByRole('heading', { level: 1, name: patientName, exact: true }).waitFor()
  return w
}

/** Records one set of vitals through the form ("Record vital signs"). */
async function recordVitals(page, values) {
  for (const [label, value] of Object.entries(values)) {
    await page.getByLabel(label, { exact: true }).fill(String(value))
  }
  await page.getByRole('button', { name: 'Record vital signs', exact: true }).click()
  await page.getByRole('status').filter({ hasText: 'Vital signs recorded.' }).waitFor()
}

/** The row of Latest vital signs for a LOINC code. */
function latest(page, code) {
  return page
    .getByRole('region', { name: 'Latest vital signs' })
    .locator(`[data-test="vital-${code}"]`)
}

/** Waits until the row of `code` in Latest vital signs shows `value` (as a whole number). */
async function latestShows(page, code, value) {
  await latest(page, code).filter({ hasText: new RegExp(`(^|[^\\d.])${value}([^\\d.]|$)`) }).waitFor()
}

/** Marks the page so that a reload (which would clear the mark) can be detected. */
async function markPage(page) {
  await page.evaluate(() => {
    window.__hmisNotReloaded = true
  })
}

async function notReloaded(page) {
  return page.evaluate(() => window.__hmisNotReloaded === true)
}

test('a nurse records vital signs and sees them in Latest vital signs with their flag', async () => {
  const w = await onPatientPage(env.nurse)
  const { page } = w
  await page.getByRole('heading', { name: 'Record vital signs' }).waitFor()
  await recordVitals(page, { 'Heart rate (/min)': 91, 'Respiratory rate (/min)': 18 })
  await latestShows(page, HEART_RATE, 91)
  const row = latest(page, HEART_RATE)
  assert.match(await row.innerText(), /\/min/, 'the unit')
  const flagged = row.locator('[data-flag]').or(page.locator(`[data-test="vital-${HEART_RATE}"][data-flag]`))
  assert.match(await flagged.first().getAttribute('data-flag'), /^(normal|low|high|critical)$/)
  w.clean()
  await w.close()
})

test('a field the API refuses is marked beside its input', async () => {
  const w = await onPatientPage(env.nurse)
  const { page } = w
  const input = page.getByLabel('Heart rate (/min)', { exact: true })
  await input.fill('900')
  await page.getByRole('button', { name: 'Record vital signs', exact: true }).click()
  await page.locator('input[aria-invalid="true"]').first().waitFor()
  assert.equal(await input.getAttribute('aria-invalid'), 'true')
  const described = await input.getAttribute('aria-describedby')
  assert.ok(described, 'the input names its error with aria-describedby')
  const ids = described.split(' ').filter(Boolean)
  const error = page.locator(ids.map((id) => `[id="${id}"].field-error`).join(', '))
  assert.equal(await error.count(), 1, `one of ${described} has class field-error`)
  assert.ok((await error.innerText()).trim().length > 0, 'the error says something')
  w.clean()
  await w.close()
})

/** Picks the option of a select whose label or value matches `pattern`. */
async function selectMatching(select, pattern) {
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, label: o.label })))
  const hit = options.find((o) => pattern.test(o.label) || pattern.test(o.value))
  assert.ok(hit, `no option matching ${pattern} in ${JSON.stringify(options)}`)
  await select.selectOption(hit.value)
}

/** Waits until the chart shows `code` with at least `min` points; answers the count. */
async function chartPoints(page, code, min) {
  const chart = page.locator('figure[data-test="chart"]')
  await page.waitForFunction(
    ({ code, min }) => {
      const figure = document.querySelector('figure[data-test="chart"]')
      return figure && figure.dataset.code === code && Number(figure.dataset.points) >= min
    },
    { code, min },
  ).catch(async (error) => {
    const seen = await chart.evaluateAll((fs) => fs.map((f) => ({ code: f.dataset.code, points: f.dataset.points })))
    throw new Error(`the chart never showed ${min}+ points of ${code}: ${JSON.stringify(seen)} (${error.message})`)
  })
  return Number(await chart.getAttribute('data-points'))
}

test('the chart of the heart rate shows the readings of the last days', async () => {
  const w = await onPatientPage(env.nurse)
  const { page } = w
  await page.getByRole('heading', { name: 'Charts' }).waitFor()
  await selectMatching(page.getByLabel('Vital sign', { exact: true }), /heart|8867-4/i)
  await page.getByLabel('Period', { exact: true }).selectOption({ label: 'Last 30 days' })
  const points = await chartPoints(page, HEART_RATE, 5)
  assert.ok(points >= 5, `five seeded readings, got ${points}`)
  const caption = await page.locator('figure[data-test="chart"] figcaption').innerText()
  assert.match(caption, /heart rate/i)
  assert.match(caption, /\/min/)
  await page.locator('figure[data-test="chart"] canvas, figure[data-test="chart"] svg').first().waitFor()
  await screenshot(page, 'patient-page-full')
  // The README's picture: the top of the page down to the chart's end. It is copied into
  // docs/ only when asked (HMIS_DOCS_SCREENSHOTS=1), so that a test run leaves the tree as
  // it found it.
  const box = await page.locator('figure[data-test="chart"]').boundingBox()
  const height = Math.min(1400, Math.ceil(box.y + box.height + 24))
  await page.setViewportSize({ width: 1280, height })
  const docs = process.env.HMIS_DOCS_SCREENSHOTS ? join(repo, 'docs', 'screenshots', 'patient-page.png') : undefined
  await screenshot(page, 'patient-page', docs, { fullPage: false })
  w.clean()
  await w.close()
})

/** Opens the patient page in two browsers, records in the first, and waits for the second. */
async function seenLive(search, value) {
  const watcher = await onPatientPage(env.clinician, search)
  await live(watcher.page)
  await latest(watcher.page, HEART_RATE).waitFor()
  await markPage(watcher.page)
  const nurse = await onPatientPage(env.nurse)
  await recordVitals(nurse.page, { 'Heart rate (/min)': value })
  await latestShows(watcher.page, HEART_RATE, value)
  assert.ok(await notReloaded(watcher.page), 'the page was not reloaded')
  nurse.clean()
  watcher.clean()
  await nurse.close()
  await watcher.close()
  return watcher
}

test('a vital sign recorded in one browser appears in another without a reload', async () => {
  await seenLive('', 67)
})

test('with ?transport=poll the second browser still sees the vital sign live, over the long-poll', async () => {
  const watcher = await seenLive('?transport=poll', 73)
  assert.deepEqual(watcher.sockets, [], 'no WebSocket opened with ?transport=poll')
  assert.ok(
    watcher.requests.some((url) => new URL(url).pathname === '/api/v1/events'),
    'the page long-polled /api/v1/events',
  )
})
