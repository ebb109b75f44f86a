// Every call the UI makes to hmis goes through `api()`: the session cookie goes along
// (same origin), the CSRF token is added to anything that changes state, and a failure
// becomes an `ApiError` carrying the problem+json hmis answered (title, detail, and the
// `errors` list naming each bad field), so a form can show each message beside its field.
//
// A 401 means the session ended (expired, revoked, signed out elsewhere): every listener
// registered with `onSessionEnd` is told, and the app shows the sign-in screen with a
// message saying so.

const CSRF_COOKIE = 'hmis_csrf'
const sessionEndListeners = new Set()

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`)
    this.status = status
    this.problem = problem || {}
  }
  /** The reason hmis gave for one field (`errors[].field`), or undefined. */
  field(name) {
    const errors = this.problem.errors || []
    const hit = errors.find((e) => e.field === name)
    return hit ? hit.reason || hit.message : undefined
  }
}

export function onSessionEnd(listener) {
  sessionEndListeners.add(listener)
  return () => sessionEndListeners.delete(listener)
}

export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=')
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join('='))
  }
  return ''
}

function withQuery(path, query) {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v))
    else params.append(key, String(value))
  }
  const text = params.toString()
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path
}

/**
 * Calls hmis. Resolves to `{ status, data, etag, cursor, headers }`; rejects with an
 * `ApiError` for any answer that is not 2xx (and for a network failure, status 0).
 * `options`: `body` (sent as JSON), `query` (an object), `headers`, `signal`.
 */
export async function api(method, path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  if (!['GET', 'HEAD'].includes(method)) headers['X-CSRF-Token'] = csrfToken()
  let response
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    })
  } catch (error) {
    if (error && error.name === 'AbortError') throw error
    throw new ApiError(0, { title: 'hmis cannot be reached', detail: 'Check the network link, then try again.' })
  }
  const type = response.headers.get('Content-Type') || ''
  const data = type.includes('json') ? await response.json().catch(() => null) : null
  if (response.status === 401 && !path.startsWith('/api/v1/auth/login')) {
    sessionEndListeners.forEach((listener) => listener())
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data)
    error.headers = response.headers // Retry-After, X-Hmis-Duplicate-Check, ...
    throw error
  }
  return {
    status: response.status,
    data,
    etag: response.headers.get('ETag'),
    cursor: response.headers.get('X-Hmis-Cursor'),
    headers: response.headers,
  }
}

export const get = (path, options) => api('GET', path, options)
export const post = (path, body, options = {}) => api('POST', path, { ...options, body })
export const patch = (path, body, options = {}) => api('PATCH', path, { ...options, body })
