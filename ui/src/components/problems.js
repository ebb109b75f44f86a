// Splits an API failure into what a form shows: each reason beside the field it names
// (`errors[].field`, mapped to the form's own names), and everything else in one message
// for a role="alert" element.
import { ApiError } from '../api.js'

/**
 * `fields`: the form's field names, or an object mapping API field names to them
 * (`{ 'grants[0].role': 'role' }`). Answers `{ fields: { name: reason }, message }`.
 */
export function problemsOf(error, fields) {
  const out = { fields: {}, message: '' }
  if (!(error instanceof ApiError)) {
    out.message = (error && error.message) || 'Something went wrong.'
    return out
  }
  const map = Array.isArray(fields) ? Object.fromEntries(fields.map((f) => [f, f])) : fields || {}
  const left = []
  for (const e of error.problem.errors || []) {
    const name = map[e.field]
    const reason = e.reason || e.message || ''
    if (name && !out.fields[name]) out.fields[name] = reason
    else if (!name) left.push(e.field ? `${e.field}: ${reason}` : reason)
  }
  if (!(error.problem.errors || []).length || left.length) {
    const retry = error.status === 503 ? ' Try again in a moment.' : ''
    out.message = left.length && (error.problem.errors || []).length
      ? `${error.problem.title || 'Refused'}: ${left.join('; ')}`
      : `${error.message}${retry}`
  }
  return out
}

/** A key that makes a retry of the same request (a slow link) count once. */
export function idempotencyKey() {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
