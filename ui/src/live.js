// Live updates: ONE WebSocket per page (`/api/v1/ws`, same origin, the session cookie),
// shared by every screen through `live.subscribe(topics, cursor, onEvent)`.
//
// The socket has one change feed on the server: every event frame carries the feed's
// cursor after it, so once a subscription is acknowledged, any event frame's cursor is a
// point every topic followed has been served up to. Each subscription keeps the newest
// such cursor and, after a reconnect (1 s doubling to 30 s, with jitter), subscribes again
// from it: exactly the missed events arrive. A `reset` (the cursor cannot resume) and a
// reconnect of a subscription that has no cursor to resume from (notifications, `user:me`,
// carry none) are handed to the screen as `{type: 'reset'}`: it reloads what it shows.
//
// When the socket cannot connect at all (3 attempts that never opened: a proxy that cuts
// upgrades), or with `?transport=poll` in the URL (hash query or search), every
// subscription long-polls `GET /api/v1/events` with the same topics and cursors instead.
// Notifications do not travel over the long-poll, so a `user:me` subscription then gets
// a `reset` every ~20 s to re-read them.
import { ref } from 'vue'
import { get } from './api.js'

const ATTEMPTS_BEFORE_POLL = 3
const FIRST_DELAY = 1000
/** An upgrade a proxy holds without answering counts as failed after this long. */
const OPEN_TIMEOUT_MS = 6000
const MAX_DELAY = 30000
const ME_REREAD_MS = 20000
/** How long the socket stays open with nobody subscribed (a screen change re-subscribes). */
const IDLE_CLOSE_MS = 1500

const state = ref(isOffline() ? 'offline' : 'reconnecting')
const transport = ref('websocket') // 'websocket' | 'poll'
const subs = new Map() // key -> { key, topics, cursor, onEvent, acked, sentBefore, poll }
let nextKey = 1
let mode = 'ws' // 'ws' | 'poll': poll is for the page's life once chosen
let socket = null
let everOpened = false
let failedAttempts = 0
let delay = FIRST_DELAY
let retryTimer = null
let idleTimer = null
const sleepers = new Set()

function isOffline() {
  return typeof navigator !== 'undefined' && navigator.onLine === false
}

function setState(next) {
  state.value = isOffline() ? 'offline' : next
}

/** Once the URL has asked for the long-poll, it stays asked (screens drop the query). */
let pollWanted = false
function pollAsked() {
  const hashQuery = (window.location.hash.split('?')[1] || '')
  pollWanted = pollWanted
    || new URLSearchParams(hashQuery).get('transport') === 'poll'
    || new URLSearchParams(window.location.search).get('transport') === 'poll'
  return pollWanted
}
pollAsked()

function deliver(sub, event) {
  try {
    sub.onEvent(event)
  } catch (error) {
    console.error('live: a screen failed to apply an event', error)
  }
}

function socketUrl() {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws'
  return `${scheme}://${window.location.host}/api/v1/ws`
}

function send(frame) {
  if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame))
}

function subscribeFrame(sub) {
  const frame = { type: 'subscribe', id: `s${sub.key}`, topics: sub.topics }
  if (sub.cursor) frame.cursor = sub.cursor
  return frame
}

/** Backoff delay with jitter (±20 %), then doubled for the next time, up to 30 s. */
function nextDelay() {
  const wait = delay * (0.8 + 0.4 * Math.random())
  delay = Math.min(delay * 2, MAX_DELAY)
  return wait
}

// ---- WebSocket ----

function connect() {
  clearTimeout(retryTimer)
  retryTimer = null
  if (socket || subs.size === 0 || mode !== 'ws') return
  if (isOffline()) return setState('offline')
  if (pollAsked()) return startPolling()
  let ws
  try {
    ws = new WebSocket(socketUrl())
  } catch {
    return closed({ code: 1006 }, null)
  }
  socket = ws
  const openTimer = setTimeout(() => {
    if (socket !== ws || ws.readyState !== 0) return
    ws.onclose = null
    try {
      ws.close()
    } catch {
      // never opened
    }
    closed({ code: 1006 }, ws)
  }, OPEN_TIMEOUT_MS)
  ws.onopen = () => {
    clearTimeout(openTimer)
    if (socket !== ws) return
    everOpened = true
    failedAttempts = 0
    delay = FIRST_DELAY
    setState('connected')
    for (const sub of subs.values()) {
      const reconnected = sub.sentBefore
      sub.acked = false
      sub.sentBefore = true
      send(subscribeFrame(sub))
      // Nothing to resume from (no cursor, or notifications, which carry none): reload.
      if (reconnected && (!sub.cursor || sub.topics.includes('user:me'))) {
        deliver(sub, { type: 'reset', reason: 'reconnected' })
      }
    }
  }
  ws.onmessage = (message) => {
    if (socket !== ws) return
    let frame
    try {
      frame = JSON.parse(message.data)
    } catch {
      return
    }
    handle(frame)
  }
  ws.onclose = (event) => {
    clearTimeout(openTimer)
    closed(event, ws)
  }
}

function closed(event, ws) {
  if (ws && socket !== ws) return // closed on purpose, already replaced or dropped
  socket = null
  for (const sub of subs.values()) sub.acked = false
  if (subs.size === 0) return
  if (event.code === 4401) {
    // The session ended: asking hmis tells api.js's listeners (a 401), which sign out.
    get('/api/v1/auth/me').then(() => scheduleReconnect(), () => {})
    setState('reconnecting')
    return
  }
  if (!everOpened) {
    failedAttempts += 1
    if (failedAttempts >= ATTEMPTS_BEFORE_POLL) return startPolling()
  }
  scheduleReconnect()
}

function scheduleReconnect() {
  if (subs.size === 0 || mode !== 'ws' || socket) return
  setState('reconnecting')
  if (isOffline()) return // the 'online' event reconnects
  clearTimeout(retryTimer)
  retryTimer = setTimeout(connect, nextDelay())
}

function closeSocket() {
  const ws = socket
  socket = null
  clearTimeout(retryTimer)
  retryTimer = null
  if (ws) {
    ws.onclose = null
    ws.onmessage = null
    ws.onopen = null
    try {
      ws.close(1000)
    } catch {
      // already closing
    }
  }
  for (const sub of subs.values()) sub.acked = false
}

function subByFrameId(id) {
  return typeof id === 'string' && id[0] === 's' ? subs.get(Number(id.slice(1))) : undefined
}

function handle(frame) {
  switch (frame.type) {
    case 'subscribed': {
      const sub = subByFrameId(frame.id)
      if (sub) sub.acked = true
      break
    }
    case 'event':
      for (const sub of subs.values()) {
        const mine = sub.topics.includes(frame.topic)
        // One feed per socket: its cursor covers every acknowledged subscription.
        if (frame.cursor && (sub.acked || mine)) sub.cursor = frame.cursor
        if (mine) deliver(sub, frame)
      }
      break
    case 'reset':
      for (const sub of subs.values()) {
        if (frame.topic === 'user:me') {
          if (sub.topics.includes('user:me')) deliver(sub, { type: 'reset', reason: frame.reason })
          continue
        }
        if (frame.cursor) sub.cursor = frame.cursor
        if (sub.topics.some((t) => t !== 'user:me')) {
          deliver(sub, { type: 'reset', reason: frame.reason, cursor: frame.cursor })
        }
      }
      break
    case 'error': {
      const sub = subByFrameId(frame.id)
      if (sub) deliver(sub, { type: 'error', field: frame.field, topic: frame.topic, reason: frame.reason })
      break
    }
    default:
      break
  }
}

// ---- Long-poll ----

function sleep(ms) {
  return new Promise((resolve) => {
    const sleeper = () => {
      clearTimeout(timer)
      sleepers.delete(sleeper)
      resolve()
    }
    const timer = setTimeout(sleeper, ms)
    sleepers.add(sleeper)
  })
}

function wakeSleepers() {
  for (const sleeper of [...sleepers]) sleeper()
}

function startPolling() {
  closeSocket()
  mode = 'poll'
  transport.value = 'poll'
  for (const sub of subs.values()) if (!sub.poll) poll(sub)
}

async function poll(sub) {
  const controller = new AbortController()
  sub.poll = controller
  const topics = sub.topics.filter((t) => t !== 'user:me')
  const me = topics.length !== sub.topics.length
  const active = () => subs.get(sub.key) === sub && !controller.signal.aborted
  let failing = false
  let backoff = FIRST_DELAY
  let meReadAt = Date.now()
  const reReadMe = (force) => {
    if (me && (force || Date.now() - meReadAt >= ME_REREAD_MS)) {
      meReadAt = Date.now()
      deliver(sub, { type: 'reset', reason: 'poll' })
    }
  }
  // The first long-poll may wait ~25 s for an event: a quick read says hmis answers.
  let probe = true
  while (active()) {
    try {
      if (probe || failing) {
        await get('/api/v1/auth/me', { signal: controller.signal })
        if (!active()) return
        setState('connected')
        if (failing) reReadMe(true)
        failing = false
        probe = false
        backoff = FIRST_DELAY
      }
      if (topics.length === 0) {
        await sleep(ME_REREAD_MS)
        if (active()) reReadMe(true)
        continue
      }
      const { data } = await get('/api/v1/events', {
        query: { topics: topics.join(','), cursor: sub.cursor || undefined },
        signal: controller.signal,
      })
      if (!active()) return
      setState('connected')
      sub.cursor = data.cursor || sub.cursor
      if (data.reset) deliver(sub, { type: 'reset', reason: data.reset, cursor: data.cursor })
      for (const event of data.events || []) deliver(sub, event)
      reReadMe(false)
    } catch (error) {
      if (!active() || (error && error.name === 'AbortError')) return
      if (error && error.status === 401) return // api.js has told the app: signed out
      if (error && (error.status === 400 || error.status === 403)) {
        deliver(sub, { type: 'error', field: 'topics', reason: error.message })
        return
      }
      failing = true
      setState('reconnecting')
      await sleep(backoff * (0.8 + 0.4 * Math.random()))
      backoff = Math.min(backoff * 2, MAX_DELAY)
    }
  }
}

// ---- Subscriptions ----

function idleClose() {
  if (subs.size > 0) return
  closeSocket()
}

/**
 * Follows `topics` (`patient:<id>`, `region:<name>`, `user:me`) from `cursor` (an
 * `X-Hmis-Cursor` of the read the screen shows, or null: from now). `onEvent` gets the
 * event frames, `{type: 'reset'}` (reload), and `{type: 'error', topic, reason}`.
 * Returns the function that stops following.
 */
function subscribe(topics, cursor, onEvent) {
  const key = nextKey++
  const sub = { key, topics: [...topics], cursor: cursor || null, onEvent, acked: false, sentBefore: false, poll: null }
  subs.set(key, sub)
  clearTimeout(idleTimer)
  if (mode === 'poll') {
    poll(sub)
  } else if (socket && socket.readyState === 1) {
    sub.sentBefore = true
    send(subscribeFrame(sub))
  } else if (!socket && !retryTimer) {
    connect()
  }
  return () => {
    if (subs.get(key) !== sub) return
    subs.delete(key)
    if (sub.poll) sub.poll.abort()
    const stillFollowed = new Set()
    for (const other of subs.values()) other.topics.forEach((t) => stillFollowed.add(t))
    const dropped = sub.topics.filter((t) => !stillFollowed.has(t))
    if (dropped.length) send({ type: 'unsubscribe', id: `u${key}`, topics: dropped })
    if (subs.size === 0) {
      clearTimeout(idleTimer)
      idleTimer = setTimeout(idleClose, IDLE_CLOSE_MS)
    }
  }
}

window.addEventListener('hashchange', () => {
  if (mode === 'ws' && pollAsked() && subs.size) startPolling()
})

window.addEventListener('offline', () => {
  state.value = 'offline'
  // Reconnect from the cursors when the link is back, rather than trust a socket that
  // may have silently lost frames meanwhile.
  if (socket) {
    closeSocket()
    for (const sub of subs.values()) sub.acked = false
  }
})

window.addEventListener('online', () => {
  delay = FIRST_DELAY
  state.value = 'reconnecting'
  if (mode === 'ws') return connect()
  wakeSleepers()
  if (subs.size) get('/api/v1/auth/me').then(() => setState('connected'), () => {})
})

export const live = { state, transport, subscribe }
