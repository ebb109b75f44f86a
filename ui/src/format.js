// Dates and times as the clinic reads them: in the region's own time zone (regions/*.toml
// `time_zone`), whatever the computer's zone is. Intl does the time-zone arithmetic.
import { session } from './session.js'

export function timeZoneOf(region) {
  const found = session.regions.find((r) => r.name === region)
  return (found && found.time_zone) || 'Africa/Maseru'
}

/** "2 Dec 2026, 14:05" in the region's zone. */
export function dateTime(value, region) {
  if (!value) return ''
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timeZoneOf(region),
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(value))
}

/** A calendar date (birth dates): shown as written, no time zone applies. */
export function date(value) {
  if (!value) return ''
  const [y, m, d] = value.split('-').map(Number)
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' })
    .format(new Date(Date.UTC(y, m - 1, d)))
}

export function regionName(region) {
  const found = session.regions.find((r) => r.name === region)
  return (found && found.display_name) || region
}
