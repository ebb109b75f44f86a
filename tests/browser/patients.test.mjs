// Finding and registering patients: a search by family name, a registration, and the
// duplicate prompt when the same person is registered twice.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { browserForThisFile, env, open, screenshot, signedIn, uniqueName } from './support.mjs'

const chromium = browserForThisFile()

test('a nurse searching a family name sees the matching patients in a table', async () => {
  const w = await signedIn(chromium.browser, env.nurse, '#/patients')
  const { page } = w
  await page.getByRole('heading', { name: 'Patients', exact: true }).waitFor()
  await page.getByLabel('Search patients', { exact: true }).fill(env.patient.family)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
  const rows = page.locator('tr[data-test="patient-row"]')
  await rows.first().waitFor()
  assert.ok((await rows.count()) >= 3, `three Mokoenas at least, got ${await rows.count()}`)
  const name = `${env.patient.given} ${env.patient.family}`
  const link = rows.getByRole('link', { name, exact: true })
  assert.equal(await link.getAttribute('href'), `#/patients/${env.patient.id}`)
  assert.match(await page.locator('[data-test="total"]').innerText(), /^(about )?\d+ patients?$/)
  for (const column of ['Name', 'Health record number', 'Sex', 'Birth date', 'District']) {
    assert.equal(await page.getByRole('columnheader', { name: column, exact: true }).count(), 1, column)
  }
  assert.equal(
    await page.getByRole('columnheader', { name: 'Region', exact: true }).count(),
    0,
    'a nurse of one region sees no Region column',
  )
  await screenshot(page, 'search-results')
  await link.click()
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor()
  w.clean()
  await w.close()
})

/** Fills the registration form (the screen "Register a patient") with `person`. */
async function fillRegistration(page, person) {
  await page.getByRole('heading', { name: 'Register a patient' }).waitFor()
  await page.getByLabel('Given name', { exact: true }).fill(person.given)
  await page.getByLabel('Family name', { exact: true }).fill(person.family)
  await page.getByLabel('Sex', { exact: true }).selectOption(person.sex)
  await page.getByLabel('Birth date', { exact: true }).fill(person.birth)
  await page.getByLabel('District', { exact: true }).selectOption(person.district)
  await page.getByLabel('Village', { exact: true }).fill(person.village)
  await page.getByLabel('Phone', { exact: true }).fill(person.phone)
}

/** The patient ID in the page's address once it shows a patient. */
async function patientShown(page, person) {
  const name = `${person.given} ${person.family}`
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor()
  const id = /#\/patients\/([^/?]+)/.exec(page.url())
  assert.ok(id && id[1] !== 'new', `the address names the patient: ${page.url()}`)
  return id[1]
}

test('registering the same person twice meets the duplicate prompt, and "Register anyway" registers the second record', async () => {
  const person = {
    given: 'Mpho',
    family: uniqueName('Ntsane'),
    sex: 'female',
    birth: '1988-03-14',
    district: 'Quthing',
    village: 'Mphaki',
    phone: '5800 1234',
  }
  const w = await signedIn(chromium.browser, env.nurse, '#/patients/new')
  const { page } = w
  await fillRegistration(page, person)
  await page.getByRole('button', { name: 'Register', exact: true }).click()
  const first = await patientShown(page, person)

  await open(page, '#/patients/new')
  await fillRegistration(page, person)
  await page.getByRole('button', { name: 'Register', exact: true }).click()
  const dialog = page.getByRole('dialog', { name: 'Possible duplicates' })
  await dialog.waitFor()
  const candidates = dialog.locator('li[data-test="duplicate-candidate"]')
  await candidates.first().waitFor()
  const candidate = candidates.filter({ hasText: person.family })
  assert.equal(await candidate.count(), 1, 'the first registration is the candidate')
  assert.match(await candidate.innerText(), /\d+\s?%/, 'the score as a percentage')
  const openRecord = candidate.getByRole('link', { name: 'Open record' })
  assert.match(await openRecord.getAttribute('href'), new RegExp(`#/patients/${first}$`))
  await screenshot(page, 'duplicate-prompt')

  await dialog.getByRole('button', { name: 'Register anyway' }).click()
  const second = await patientShown(page, person)
  assert.notEqual(second, first, 'a second record')
  w.clean()
  await w.close()
})

test('"Cancel" on the duplicate prompt closes it and stays on the registration screen', async () => {
  const person = {
    given: 'Teboho',
    family: uniqueName('Lesia'),
    sex: 'male',
    birth: '1975-11-02',
    district: 'Quthing',
    village: 'Tele',
    phone: '5800 9876',
  }
  const w = await signedIn(chromium.browser, env.nurse, '#/patients/new')
  const { page } = w
  await fillRegistration(page, person)
  await page.getByRole('button', { name: 'Register', exact: true }).click()
  await patientShown(page, person)
  await open(page, '#/patients/new')
  await fillRegistration(page, person)
  await page.getByRole('button', { name: 'Register', exact: true }).click()
  const dialog = page.getByRole('dialog', { name: 'Possible duplicates' })
  await dialog.waitFor()
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await dialog.waitFor({ state: 'hidden' })
  assert.match(page.url(), /#\/patients\/new/)
  await page.getByRole('heading', { name: 'Register a patient' }).waitFor()
  w.clean()
  await w.close()
})
