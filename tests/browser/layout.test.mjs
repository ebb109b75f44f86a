// A phone's width (360 x 740): no screen scrolls sideways (wide tables scroll inside their
// own .table-wrap), and each screen's main controls are on the screen, not cut off.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { browserForThisFile, env, open, screenshot, shell, signedIn } from './support.mjs'

const PHONE = { width: 360, height: 740 }

const chromium = browserForThisFile()

/** Fails if the page itself scrolls sideways at the phone's width. */
async function noSidewaysScroll(page, screen) {
  const width = await page.evaluate(() => document.scrollingElement.scrollWidth)
  assert.ok(width <= PHONE.width, `${screen}: the page is ${width} px wide at ${PHONE.width} px`)
}

/** Fails unless `locator` shows, whole, between the left and right edges of the screen. */
async function onScreen(locator, what) {
  await locator.first().scrollIntoViewIfNeeded()
  assert.ok(await locator.first().isVisible(), `${what} is not visible`)
  const box = await locator.first().boundingBox()
  assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width + 0.5, `${what} is cut off: ${JSON.stringify(box)}`)
}

test('at 360 px the search screen with results does not scroll sideways and its controls fit', async () => {
  const w = await signedIn(chromium.browser, env.nurse, '#/patients', { viewport: PHONE })
  const { page } = w
  await page.getByLabel('Search patients', { exact: true }).fill(env.patient.family)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  await page.locator('tr[data-test="patient-row"]').first().waitFor()
  await noSidewaysScroll(page, 'search')
  await onScreen(shell(page), 'the main navigation')
  await onScreen(page.getByLabel('Search patients', { exact: true }), 'the search input')
  await onScreen(page.getByRole('button', { name: 'Search', exact: true }), 'the Search button')
  await onScreen(page.locator('.table-wrap'), 'the results table\'s wrapper')
  await screenshot(page, 'search-results-360')
  w.clean()
  await w.close()
})

test('at 360 px the registration form does not scroll sideways and its controls fit', async () => {
  const w = await signedIn(chromium.browser, env.nurse, '#/patients/new', { viewport: PHONE })
  const { page } = w
  await page.getByRole('heading', { name: 'Register a patient' }).waitFor()
  await noSidewaysScroll(page, 'register')
  for (const label of ['Given name', 'Family name', 'Sex', 'Birth date', 'District']) {
    await onScreen(page.getByLabel(label, { exact: true }), `the input ${label}`)
  }
  await onScreen(page.getByRole('button', { name: 'Register', exact: true }), 'the Register button')
  w.clean()
  await w.close()
})

test('at 360 px the patient page with its chart does not scroll sideways and its controls fit', async () => {
  const w = await signedIn(chromium.browser, env.nurse, `#/patients/${env.patient.id}`, { viewport: PHONE })
  const { page } = w
  const name = `${env.patient.given} ${env.patient.family}`
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor()
  await page.locator('figure[data-test="chart"]').waitFor()
  await page.locator('figure[data-test="chart"] canvas, figure[data-test="chart"] svg').first().waitFor()
  await noSidewaysScroll(page, 'patient page')
  await onScreen(shell(page), 'the main navigation')
  await onScreen(page.getByRole('heading', { level: 1, name, exact: true }), 'the patient\'s name')
  await onScreen(page.locator('[data-test="demographics"]'), 'the demographics')
  await onScreen(page.getByRole('region', { name: 'Latest vital signs' }), 'Latest vital signs')
  await onScreen(page.getByLabel('Heart rate (/min)', { exact: true }), 'the heart rate input')
  await onScreen(page.getByRole('button', { name: 'Record vital signs', exact: true }), 'the Record vital signs button')
  await onScreen(page.locator('figure[data-test="chart"]'), 'the chart')
  await noSidewaysScroll(page, 'patient page, scrolled')
  await screenshot(page, 'patient-page-360-full')
  await page.evaluate(() => window.scrollTo(0, 0))
  await screenshot(page, 'patient-page-360', undefined, { fullPage: false })
  w.clean()
  await w.close()
})

test('at 360 px the notifications screen does not scroll sideways', async () => {
  const w = await signedIn(chromium.browser, env.clinician, '#/notifications', { viewport: PHONE })
  const { page } = w
  await page.getByRole('heading', { name: 'Notifications', exact: true }).waitFor()
  await noSidewaysScroll(page, 'notifications')
  await onScreen(shell(page), 'the main navigation')
  await open(page, '#/patients')
  await page.getByRole('heading', { name: 'Patients', exact: true }).waitFor()
  await noSidewaysScroll(page, 'patients')
  w.clean()
  await w.close()
})
