// Small helpers of the patient page: who may do what here (what the UI offers; hmis checks
// every request itself, per src/authz/policy.rs), idempotency keys, and wall-clock times
// in the region's zone for a datetime-local input, whatever the computer's zone is.
import { can } from '../session.js'
import { timeZoneOf } from '../format.js'

const anyOf = (roles, region) => roles.some((role) => can(role, region))

/** policy.rs: patient update. */
export const mayEdit = (region) =>
  anyOf(['nurse', 'clinician', 'records_clerk', 'regional_admin', 'system_admin'], region)
/** policy.rs: observation create/update (records clerks only read them). */
export const mayRecord = (region) => anyOf(['nurse', 'clinician', 'regional_admin', 'system_admin'], region)
/** Acknowledging a critical value is a clinician's act. */
export const mayAcknowledge = (region) => can('clinician', region)
/** policy.rs: patient transfer in the source region (records clerks, regional and system admins). */
export const mayTransferFrom = (region) => anyOf(['records_clerk', 'regional_admin', 'system_admin'], region)
/** ...and patient create in the target region. */
export const mayCreateIn = (region) =>
  anyOf(['nurse', 'clinician', 'records_clerk', 'regional_admin', 'system_admin'], region)
/** policy.rs: patient_audit (regional admins of the region, system admins). */
export const mayAudit = (region) => anyOf(['regional_admin', 'system_admin'], region)

/** A fresh Idempotency-Key (no crypto.randomUUID: it is newer than the browsers served). */
export function newKey() {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return 'ui-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

function parts(date, zone) {
  const out = {}
  const fmt = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  })
  for (const p of fmt.formatToParts(date)) out[p.type] = p.value
  return out
}

/** "2026-12-02T14:05": the wall-clock time in the region, for a datetime-local input. */
export function localInputValue(date, region) {
  const p = parts(date, timeZoneOf(region))
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`
}

/** The region's UTC offset at an instant, in minutes. */
function offsetAt(ms, zone) {
  const p = parts(new Date(ms), zone)
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second)
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000)
}

/** A datetime-local value read as the region's wall clock, as RFC 3339 with that offset. */
export function fromLocalInput(value, region) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value || '')
  if (!m) return null
  const zone = timeZoneOf(region)
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0))
  let offset = offsetAt(wall, zone)
  offset = offsetAt(wall - offset * 60000, zone)
  const sign = offset < 0 ? '-' : '+'
  const abs = Math.abs(offset)
  const hh = String(Math.floor(abs / 60)).padStart(2, '0')
  const mm = String(abs % 60).padStart(2, '0')
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] || '00'}${sign}${hh}:${mm}`
}

/** Whole years between a birth date (YYYY-MM-DD) and today in the region. */
export function ageYears(birth, region) {
  if (!birth) return null
  const p = parts(new Date(), timeZoneOf(region))
  const [y, m, d] = birth.split('-').map(Number)
  let age = +p.year - y
  if (+p.month < m || (+p.month === m && +p.day < d)) age -= 1
  return age
}

/** The message of an error that is not about one field. */
export function problemText(error) {
  if (!error) return ''
  const p = error.problem || {}
  return p.detail || p.title || error.message || 'Something went wrong.'
}
