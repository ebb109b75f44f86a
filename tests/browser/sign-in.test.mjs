// Signing in and out as a clinic worker meets it: the sign-in screen, a wrong password, a
// session ended elsewhere, and the keyboard alone.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { apiCall, apiToken, browserForThisFile, env, newPage, open, screenshot, shell, signedIn } from './support.mjs'

const chromium = browserForThisFile()

const SIGN_IN = 'Sign in to hmis'

test('a nurse signs in with her username and password and sees the patients screen', async () => {
  const w = await newPage(chromium.browser)
  await open(w.page, '#/login')
  await w.page.getByRole('heading', { name: SIGN_IN }).waitFor()
  await screenshot(w.page, 'sign-in')
  await w.page.getByLabel('Username', { exact: true }).fill(env.nurse)
  await w.page.getByLabel('Password', { exact: true }).fill(env.password)
  await w.page.getByRole('button', { name: 'Sign in' }).click()
  await shell(w.page).waitFor()
  await w.page.getByRole('heading', { name: 'Patients', exact: true }).waitFor()
  await w.page.locator('header').getByText(env.nurse).first().waitFor()
  assert.match(w.page.url(), /#\/patients/)
  w.clean()
  await w.close()
})

test('a wrong password is refused with the API\'s reason and nobody is signed in', async () => {
  const w = await newPage(chromium.browser)
  await open(w.page, '#/login')
  await w.page.getByLabel('Username', { exact: true }).fill(env.nurse)
  await w.page.getByLabel('Password', { exact: true }).fill(`${env.password}-wrong`)
  await w.page.getByRole('button', { name: 'Sign in' }).click()
  const alert = w.page.getByRole('alert').filter({ hasText: 'unknown user or wrong password' })
  await alert.waitFor()
  assert.equal(await shell(w.page).count(), 0, 'the signed-in shell must not show')
  await w.page.getByRole('heading', { name: SIGN_IN }).waitFor()
  w.clean()
  await w.close()
})

test('a session ended everywhere sends the next action to the sign-in screen with a message', async () => {
  const w = await signedIn(chromium.browser, env.leaver, '#/patients')
  const token = await apiToken(env.leaver)
  const out = await apiCall(token, 'POST', '/api/v1/auth/logout?everywhere=true')
  assert.equal(out.status, 204, `logout everywhere: ${JSON.stringify(out.body)}`)
  // Act: a search needs the session, which hmis no longer knows (401). The live socket
  // may be closed (4401) first and take the screen away mid-action: the message counts.
  const ended = w.page.locator('[data-test="session-ended"]')
  const act = async () => {
    await w.page.getByLabel('Search patients', { exact: true }).fill(env.patient.family, { timeout: 5_000 })
    await w.page.getByRole('button', { name: 'Search', exact: true }).click({ timeout: 5_000 })
  }
  const acting = act().catch(() => {})
  await ended.waitFor()
  await acting
  assert.equal(await ended.getAttribute('role'), 'status')
  assert.equal((await ended.innerText()).trim(), 'Your session has ended. Sign in again to continue.')
  await w.page.getByRole('heading', { name: SIGN_IN }).waitFor()
  assert.equal(await shell(w.page).count(), 0, 'the signed-in shell must be gone')
  w.clean()
  await w.close()
})

/** Whether the element `locator` names has the keyboard focus. */
async function focused(locator) {
  return locator.evaluate((el) => el === document.activeElement)
}

/** Presses Tab until `locator` has the focus (at most `max` times). */
async function tabTo(page, locator, max = 12) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab')
    if (await focused(locator)) return
  }
  const at = await page.evaluate(() => document.activeElement && document.activeElement.outerHTML.slice(0, 120))
  assert.fail(`Tab never reached it in ${max} presses; the focus is on ${at}`)
}

test('a nurse signs in with the keyboard alone, and the focused control shows a focus ring', async () => {
  const w = await newPage(chromium.browser)
  await open(w.page, '#/login')
  await w.page.getByRole('heading', { name: SIGN_IN }).waitFor()
  const username = w.page.getByLabel('Username', { exact: true })
  const password = w.page.getByLabel('Password', { exact: true })
  const button = w.page.getByRole('button', { name: 'Sign in' })
  await tabTo(w.page, username)
  await w.page.keyboard.type(env.nurse)
  await w.page.keyboard.press('Tab')
  assert.ok(await focused(password), 'Tab from Username goes to Password')
  await w.page.keyboard.type(env.password)
  await w.page.keyboard.press('Tab')
  assert.ok(await focused(button), 'Tab from Password goes to the Sign in button')
  const ring = await button.evaluate((el) => {
    const style = getComputedStyle(el)
    return { outline: style.outlineStyle, width: style.outlineWidth, shadow: style.boxShadow }
  })
  assert.ok(
    (ring.outline !== 'none' && ring.width !== '0px') || ring.shadow !== 'none',
    `the focused button shows no focus ring: ${JSON.stringify(ring)}`,
  )
  await w.page.keyboard.press('Enter')
  await shell(w.page).waitFor()
  w.clean()
  await w.close()
})
