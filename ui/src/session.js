// Who is signed in, and what they may do. Filled from the login answer or, after a reload,
// from GET /api/v1/auth/me; emptied on sign-out or when hmis answers 401 (api.js).
// `can(role, region)` only decides what the UI offers: hmis checks every request itself.
import { reactive } from 'vue'
import { get, post, onSessionEnd, csrfToken } from './api.js'

export const session = reactive({
  user: null, // { username, grants: [{ role, region }], regions: [...] }
  ended: false, // true when hmis ended the session (expired or revoked), not the user
  regions: [], // every region: { name, display_name, districts, time_zone }
  unread: 0, // the user's unread notifications (the badge), kept by App.vue and the list
})

export function roles() {
  return new Set((session.user?.grants || []).map((g) => g.role))
}

/** Whether any grant gives `role` in `region` (or in every region, `*`). */
export function can(role, region) {
  return (session.user?.grants || []).some(
    (g) => g.role === role && (region === undefined || g.region === '*' || g.region === region),
  )
}

/** Planners see aggregates only (statistics, SQL): never a patient record. */
export function isPlannerOnly() {
  const held = roles()
  return held.size > 0 && [...held].every((r) => r === 'planner')
}

/** Admins and planners act across regions: lists show a region column for them. */
export function seesSeveralRegions() {
  const regions = session.user?.regions || []
  return regions.includes('*') || regions.length > 1
}

export async function loadRegions() {
  if (session.regions.length) return
  const { data } = await get('/api/v1/regions')
  session.regions = data.regions
}

export async function restore() {
  // The CSRF cookie lives exactly as long as the session cookie (both session cookies,
  // both cleared at logout): without it there is no session to restore, and asking
  // would only log a 401 in the console.
  if (!csrfToken()) {
    session.user = null
    return false
  }
  try {
    const { data } = await get('/api/v1/auth/me')
    session.user = data
    // Without the region list screens show raw names: not a reason to sign out.
    await loadRegions().catch(() => {})
    return true
  } catch {
    session.user = null
    return false
  }
}

export async function signIn(username, password) {
  const { data } = await post('/api/v1/auth/login', { username, password })
  session.user = data.user
  session.ended = false
  await loadRegions().catch(() => {})
}

export async function signOut() {
  try {
    await post('/api/v1/auth/logout')
  } finally {
    session.user = null
    session.ended = false
    session.unread = 0
  }
}

onSessionEnd(() => {
  if (session.user) session.ended = true
  session.user = null
  session.unread = 0
})
