// Two people editing one record: a nurse has the details form open while someone else saves
// the same patient. Her screen announces the change live, her save does not overwrite it
// (hmis answers 412 to her stale If-Match) and shows their version, and after "Use their
// version" her own change goes in on top of theirs.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { apiCall, apiToken, browserForThisFile, env, live, screenshot, signedIn, uniqueName } from './support.mjs'

const chromium = browserForThisFile()

/** Saves `changes` to the patient as another client would: read, then PATCH with its ETag. */
async function changeElsewhere(token, id, changes) {
  const read = await fetch(`${env.url}/api/v1/patients/${id}`, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(read.status, 200)
  const saved = await fetch(`${env.url}/api/v1/patients/${id}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-match': read.headers.get('etag') },
    body: JSON.stringify(changes),
  })
  assert.equal(saved.status, 200, await saved.text())
}

test('a record changed elsewhere while being edited is announced, and saving then shows their version instead of overwriting it', async () => {
  const token = await apiToken(env.nurse)
  const created = await apiCall(token, 'POST', '/api/v1/patients', {
    given_name: 'Nthabiseng', family_name: uniqueName('Molapo'), sex: 'female',
    birth_date: '1979-06-21', district: 'Quthing', village: 'Ha Ours',
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const id = created.body.id

  const w = await signedIn(chromium.browser, env.nurse, `#/patients/${id}`)
  const { page } = w
  await live(page)
  await page.getByRole('button', { name: 'Edit details' }).click()
  await page.getByLabel('Village', { exact: true }).fill('Ha Mine')

  await changeElsewhere(token, id, { village: 'Ha Theirs' })
  await page.locator('[data-test="changed-elsewhere"]').waitFor()

  await page.getByRole('button', { name: 'Save changes' }).click()
  const conflict = page.locator('[data-test="conflict"]')
  await conflict.waitFor()
  assert.match(await conflict.innerText(), /Someone else changed this record first/)
  assert.match(await conflict.innerText(), /Ha Theirs/, 'their version is shown')
  await screenshot(page, 'edit-conflict')
  const stored = await apiCall(token, 'GET', `/api/v1/patients/${id}`)
  assert.equal(stored.body.village, 'Ha Theirs', 'the stale save overwrote nothing')

  await conflict.getByRole('button', { name: 'Use their version' }).click()
  const village = page.getByLabel('Village', { exact: true })
  assert.equal(await village.inputValue(), 'Ha Theirs', 'the form now holds their version')
  await village.fill('Ha Mine')
  await page.getByRole('button', { name: 'Save changes' }).click()
  await page.locator('[data-test="demographics"]').filter({ hasText: 'Ha Mine' }).waitFor()
  const after = await apiCall(token, 'GET', `/api/v1/patients/${id}`)
  assert.equal(after.body.village, 'Ha Mine')
  w.clean()
  await w.close()
})
