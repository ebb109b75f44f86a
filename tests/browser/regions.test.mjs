// A region's patients stay in that region's screens: a Quthing nurse neither finds a
// patient who exists only in Maseru nor opens that patient's address.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { browserForThisFile, env, open, screenshot, signedIn } from './support.mjs'

const chromium = browserForThisFile()

test('a Quthing nurse searching a name that exists only in Maseru finds nothing', async () => {
  const w = await signedIn(chromium.browser, env.nurse, '#/patients')
  const { page } = w
  await page.getByLabel('Search patients', { exact: true }).fill(env.maseru.family)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  const total = page.locator('[data-test="total"]')
  await total.waitFor()
  await page.waitForFunction(() => /^0 patients$/.test(document.querySelector('[data-test="total"]').textContent.trim()))
  assert.equal(await page.locator('tr[data-test="patient-row"]').count(), 0)
  assert.equal(await page.locator('[data-test="regions-failed"]').count(), 0, 'every region answered')
  const main = await page.locator('main').innerText()
  assert.ok(!main.includes(env.maseru.hrn), 'the Maseru health record number never shows')
  assert.ok(!main.includes(`${env.maseru.given} ${env.maseru.family}`), 'the Maseru name never shows')
  w.clean()
  await w.close()
})

test('a Quthing nurse opening a Maseru patient\'s address sees that there is no such patient, never the record', async () => {
  const w = await signedIn(chromium.browser, env.nurse, '#/patients')
  const { page } = w
  const answers = []
  page.on('response', (r) => {
    if (r.url().includes(env.maseru.id)) answers.push(r.status())
  })
  await open(page, `#/patients/${env.maseru.id}`)
  await page.locator('main [role="alert"]').first().waitFor()
  await page.waitForLoadState('networkidle')
  await screenshot(page, 'other-region-patient')
  assert.ok(answers.length > 0 && answers.every((s) => s === 404 || s === 403), `hmis refused: ${answers}`)
  assert.equal(await page.locator('[data-test="demographics"]').count(), 0, 'no demographics')
  const main = await page.locator('main').innerText()
  assert.ok(!main.includes(env.maseru.family), 'the Maseru name never shows')
  assert.ok(!main.includes(env.maseru.hrn), 'the Maseru health record number never shows')
  assert.equal(await page.getByRole('heading', { name: 'Record vital signs' }).count(), 0)
  const said = await page.locator('main [role="alert"]').allInnerTexts()
  assert.ok(
    said.some((text) => /not found|no such patient|no patient|does not exist/i.test(text)),
    `a not-found message, but the page said: ${JSON.stringify(said)}`,
  )
  w.clean()
  await w.close()
})
