// The page runs under its strict Content-Security-Policy (script-src 'self', style-src
// 'self': templates compiled at build time, no inline style attributes): the header is on
// the page's answer, and no screen that a nurse, a clinician, an admin or a planner opens
// logs a console error or a CSP violation. uPlot stays out of the first screen.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { browserForThisFile, env, newPage, open, signedIn } from './support.mjs'

const chromium = browserForThisFile()

const SIGN_IN = 'Sign in to hmis'

test('the page comes with a Content-Security-Policy that allows no inline script or style', async () => {
  const w = await newPage(chromium.browser)
  const response = await w.page.goto(`${env.url}/`)
  assert.equal(response.status(), 200)
  const csp = response.headers()['content-security-policy'] || ''
  assert.match(csp, /script-src 'self'(;|$)/, `CSP: ${csp}`)
  assert.match(csp, /style-src 'self'(;|$)/, `CSP: ${csp}`)
  assert.match(csp, /frame-ancestors 'none'/, `CSP: ${csp}`)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `CSP: ${csp}`)
  assert.equal(response.headers()['x-content-type-options'], 'nosniff')
  const index = response.headers()['cache-control'] || ''
  assert.doesNotMatch(index, /immutable/, `index.html must not be cached for good: ${index}`)
  // The page's own scripts and styles are files: nothing inline that the CSP would refuse.
  const inline = await w.page.evaluate(() => ({
    scripts: [...document.querySelectorAll('script:not([src])')].filter((s) => s.textContent.trim()).length,
    styles: document.querySelectorAll('style').length,
    styled: document.querySelectorAll('[style]').length,
  }))
  assert.deepEqual(inline, { scripts: 0, styles: 0, styled: 0 }, 'inline scripts, style blocks, style attributes')
  await w.page.getByRole('heading', { name: SIGN_IN }).waitFor()
  w.clean()
  await w.close()
})

/** Collects the text of every script the page loads (to look for uPlot in it). */
function scripts(page) {
  const texts = []
  page.on('response', async (response) => {
    if (response.request().resourceType() !== 'script') return
    texts.push(await response.text().catch(() => ''))
  })
  return texts
}

/** A string literal of uPlot's own code, which survives minification. */
const UPLOT = 'u-over'

test('the first screen loads no uPlot, and the patient page loads it for the chart', async () => {
  const w = await newPage(chromium.browser)
  const loaded = scripts(w.page)
  await open(w.page, '#/login')
  await w.page.getByRole('heading', { name: SIGN_IN }).waitFor()
  await w.page.waitForLoadState('networkidle')
  assert.ok(loaded.length > 0, 'the page loads its scripts')
  assert.ok(!loaded.some((text) => text.includes(UPLOT)), 'uPlot is not in the first screen\'s scripts')
  await w.close()

  const p = await signedIn(chromium.browser, env.nurse, '#/patients')
  const later = scripts(p.page)
  await open(p.page, `#/patients/${env.patient.id}`)
  await p.page.locator('figure[data-test="chart"]').waitFor()
  await p.page.waitForLoadState('networkidle')
  assert.ok(later.some((text) => text.includes(UPLOT)), 'uPlot is loaded once the chart shows')
  p.clean()
  await p.close()
})

/** Opens each screen (hash, and a heading it must show) and checks none had a problem. */
async function visitAll(username, screens) {
  const w = await signedIn(chromium.browser, username, '#/patients')
  for (const [hash, heading] of screens) {
    await open(w.page, hash)
    await w.page.getByRole('heading', { name: heading, exact: true }).first().waitFor()
    await w.page.waitForLoadState('networkidle')
  }
  w.clean()
  await w.close()
}

const patientName = `${env.patient.given} ${env.patient.family}`

test('every screen a nurse opens runs with no console error and no CSP violation', async () => {
  await visitAll(env.nurse, [
    ['#/patients', 'Patients'],
    [`#/patients?q=${env.patient.family}`, 'Patients'],
    ['#/patients/new', 'Register a patient'],
    [`#/patients/${env.patient.id}`, patientName],
    ['#/notifications', 'Notifications'],
  ])
})

test('every screen a clinician opens runs with no console error and no CSP violation', async () => {
  await visitAll(env.clinician, [
    ['#/notifications', 'Notifications'],
    [`#/patients/${env.patient.id}`, patientName],
  ])
})

test('every screen an admin opens runs with no console error and no CSP violation, and lists show the region', async () => {
  await visitAll(env.admin, [
    ['#/admin/users', 'Users'],
    [`#/admin/audit/${env.patient.id}`, 'Audit trail'],
    [`#/patients/${env.patient.id}`, patientName],
  ])
  const w = await signedIn(chromium.browser, env.admin, '#/patients')
  await w.page.getByLabel('Search patients', { exact: true }).fill(env.patient.family)
  await w.page.getByRole('button', { name: 'Search', exact: true }).click()
  await w.page.locator('tr[data-test="patient-row"]').first().waitFor()
  assert.equal(await w.page.getByRole('columnheader', { name: 'Region', exact: true }).count(), 1)
  w.clean()
  await w.close()
})

test('a planner is told that planners see statistics, and is offered no patient search', async () => {
  const w = await signedIn(chromium.browser, env.planner, '#/patients')
  await w.page.getByText('Planners see statistics, not patient records.').waitFor()
  assert.equal(await w.page.getByLabel('Search patients', { exact: true }).count(), 0)
  assert.equal(await w.page.getByRole('link', { name: 'Register patient' }).count(), 0)
  w.clean()
  await w.close()
})
