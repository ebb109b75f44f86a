// Hash routes (`#/patients/<id>`): hmis serves one page at `/`, and a reload or a shared
// link lands on the same screen without any server-side route per screen.
//
//   #/login                 sign in (also where an ended session lands)
//   #/patients              search and list (the home screen)
//   #/patients/new          register a patient
//   #/patients/<id>         the patient page (demographics, vitals, charts, transfer)
//   #/notifications         the notification list
//   #/admin/users           a regional admin's users
//   #/admin/audit/<id>      a patient's audit trail
import { reactive } from 'vue'

export const route = reactive({ path: '/patients', params: {}, query: {} })

const patterns = [
  ['login', /^\/login$/],
  ['patients', /^\/patients$/],
  ['register', /^\/patients\/new$/],
  ['patient', /^\/patients\/(?<id>[^/]+)$/],
  ['notifications', /^\/notifications$/],
  ['users', /^\/admin\/users$/],
  ['audit', /^\/admin\/audit\/(?<id>[^/]+)$/],
]

function parse() {
  const raw = window.location.hash.replace(/^#/, '') || '/patients'
  const [path, search] = raw.split('?')
  route.path = path
  route.query = Object.fromEntries(new URLSearchParams(search || ''))
  route.name = 'notfound'
  route.params = {}
  for (const [name, pattern] of patterns) {
    const match = pattern.exec(path)
    if (match) {
      route.name = name
      route.params = { ...(match.groups || {}) }
      break
    }
  }
}

/** Goes to a screen: `navigate('/patients/' + id)`, optionally with a query object. */
export function navigate(path, query) {
  const search = query ? `?${new URLSearchParams(query)}` : ''
  window.location.hash = `#${path}${search}`
}

window.addEventListener('hashchange', parse)
parse()
