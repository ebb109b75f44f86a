// A critical value reaches the clinicians of the patient's region while they work: a nurse
// records an SpO2 of 80 % in one browser, and a Quthing clinician's screen in another shows
// a toast and a higher notification badge without a reload; the notification list has it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { browserForThisFile, env, live, screenshot, signedIn } from './support.mjs'

const chromium = browserForThisFile()

/** The number on the Notifications link's badge (0 when it is hidden or empty). */
async function badge(page) {
  const span = page.getByRole('navigation', { name: 'Main' }).locator('[data-test="unread-count"]')
  if ((await span.count()) === 0 || !(await span.isVisible())) return 0
  const text = (await span.innerText()).trim()
  return text === '' ? 0 : Number(text)
}

test('a critical SpO2 recorded by a nurse shows a toast and raises the badge of a Quthing clinician', async () => {
  const clinician = await signedIn(chromium.browser, env.clinician, '#/patients')
  await live(clinician.page)
  const before = await badge(clinician.page)

  const nurse = await signedIn(chromium.browser, env.nurse, `#/patients/${env.patient.id}`)
  await nurse.page.getByLabel('Oxygen saturation (%)', { exact: true }).fill('80')
  await nurse.page.getByRole('button', { name: 'Record vital signs', exact: true }).click()
  await nurse.page.getByRole('status').filter({ hasText: 'Vital signs recorded.' }).waitFor()
  const row = nurse.page.locator('[data-test="vital-2708-6"]')
  await row.filter({ hasText: '80' }).waitFor()
  const flag = row.locator('[data-flag]').or(nurse.page.locator('[data-test="vital-2708-6"][data-flag]'))
  assert.equal(await flag.first().getAttribute('data-flag'), 'critical')

  const toast = clinician.page.locator('[data-test="toast"]')
  await toast.waitFor({ timeout: 30_000 })
  assert.equal(await toast.getAttribute('role'), 'alert')
  assert.match(await toast.innerText(), /Critical/)
  const link = toast.getByRole('link', { name: 'Open patient' })
  assert.match(await link.getAttribute('href'), new RegExp(`#/patients/${env.patient.id}$`))
  await clinician.page.waitForFunction(
    (before) => {
      const span = document.querySelector('nav[aria-label="Main"] [data-test="unread-count"]')
      return span && Number(span.textContent.trim() || 0) > before
    },
    before,
  )
  assert.ok((await badge(clinician.page)) > before, 'the badge counts the new notification')
  await screenshot(clinician.page, 'critical-toast')

  await toast.getByRole('button', { name: 'Dismiss' }).click()
  await toast.waitFor({ state: 'hidden' })
  nurse.clean()
  clinician.clean()
  await nurse.close()
  await clinician.close()
})

test('the clinician\'s notifications list the critical reading, and "Mark read" lowers the badge', async () => {
  const w = await signedIn(chromium.browser, env.clinician, '#/notifications')
  const { page } = w
  await page.getByRole('heading', { name: 'Notifications', exact: true }).waitFor()
  const items = page.locator('li[data-test="notification"]')
  await items.first().waitFor()
  const critical = items.filter({ hasText: /Critical/i }).first()
  assert.equal(await critical.getAttribute('data-read'), 'false')
  const link = critical.getByRole('link')
  assert.match(await link.first().getAttribute('href'), new RegExp(`#/patients/${env.patient.id}$`))
  await screenshot(page, 'notifications')
  const before = await badge(page)
  assert.ok(before > 0, 'an unread notification shows in the badge')
  await critical.getByRole('button', { name: 'Mark read' }).click()
  await page.waitForFunction(
    (before) => {
      const span = document.querySelector('nav[aria-label="Main"] [data-test="unread-count"]')
      const n = span ? Number(span.textContent.trim() || 0) : 0
      return n < before
    },
    before,
  )
  await page.getByRole('button', { name: 'Mark all read' }).click()
  await page.waitForFunction(() => {
    const items = [...document.querySelectorAll('li[data-test="notification"]')]
    return items.length > 0 && items.every((li) => li.dataset.read === 'true')
  })
  assert.equal(await badge(page), 0, 'no unread notification left')
  w.clean()
  await w.close()
})
