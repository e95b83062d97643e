/**
 * The inbox: conversations on the left (newest first, live), the conversation on the right,
 * the answer box at the bottom with the 48-hour window as a countdown, and the bot's pause.
 * On a phone-width screen the list and the conversation take turns.
 */
import { ApiError, apiUrl, call, del, get, post } from '../api.js'
import type { App, Page } from '../app.js'
import { h, replace } from '../dom.js'
import { ago, countdown, dateTime, duration, time, utf8Bytes } from '../format.js'
import { t, tMaybe } from '../i18n.js'
import { botReply, expiresIn, messageBody, operatorBubble, preview } from '../message-render.js'
import type { ConversationSummary, MessageView, OperatorReply, Pause, WindowInfo } from '../types.js'

interface Conversation {
  openid: string
  messages: MessageView[]
  replies: OperatorReply[]
  follower: { subscribed: boolean; subscribedAt: number | null; scene: string | null } | null
  window: WindowInfo
  hasMore: boolean
}

const MAX_TEXT_BYTES = 2048

export const inboxPage: Page = (root, app, args) => {
  const selected = args[0] !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(args[0]) ? args[0] : undefined
  let conversations: ConversationSummary[] = []
  let current: Conversation | undefined
  let search = ''
  const list = h('ul', { class: 'conv-items', 'aria-label': t('inbox.conversations') })
  const searchBox = h('input', { type: 'search', placeholder: t('inbox.search'), 'aria-label': t('inbox.search'), class: 'search' })
  const pane = h('section', { class: 'conv', 'aria-live': 'off' })
  const layout = h('div', { class: `inbox${selected === undefined ? '' : ' has-selection'}` }, h('aside', { class: 'conv-list' }, searchBox, list), pane)
  replace(root, layout)

  let searchTimer: number | undefined
  searchBox.addEventListener('input', () => {
    clearTimeout(searchTimer)
    searchTimer = window.setTimeout(() => {
      search = searchBox.value.trim()
      void loadList()
    }, 250)
  })

  async function loadList(): Promise<void> {
    try {
      const r = await get<{ conversations: ConversationSummary[] }>(`/conversations${search === '' ? '' : `?q=${encodeURIComponent(search)}`}`)
      conversations = r.conversations
      drawList()
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) app.notify(t('app.loadFailed'), 'error')
    }
  }

  function drawList(): void {
    if (conversations.length === 0) return replace(list, h('li', { class: 'empty' }, search === '' ? t('inbox.empty') : t('inbox.noMatch')))
    replace(
      list,
      conversations.map((c) =>
        h(
          'li',
          null,
          h(
            'a',
            { href: `#/inbox/${encodeURIComponent(c.openid)}`, class: `conv-item${c.openid === selected ? ' active' : ''}`, 'aria-current': c.openid === selected ? 'true' : undefined, 'data-openid': c.openid },
            avatar(c.openid),
            h(
              'span',
              { class: 'conv-main' },
              h('span', { class: 'conv-top' }, h('span', { class: 'openid' }, c.openid), h('time', { class: 'when', datetime: new Date(c.last.at).toISOString(), title: dateTime(c.last.at) }, ago(c.last.at))),
              h('span', { class: 'conv-preview' }, preview(c.last)),
              h('span', { class: 'conv-badges' }, c.paused ? h('span', { class: 'badge paused' }, t('inbox.pausedBadge')) : null, c.subscribed === false ? h('span', { class: 'badge gone' }, t('inbox.unsubscribedBadge')) : null),
            ),
          ),
        ),
      ),
    )
  }

  /** A new or updated row from the live feed. */
  function onMessage(m: MessageView): void {
    const i = conversations.findIndex((c) => c.openid === m.openid)
    const existing = i === -1 ? undefined : conversations[i]!
    if (existing !== undefined && existing.last.id > m.id) {
      // an outcome for an older message: the list shows the newest one already
    } else if (search === '' || m.openid.includes(search)) {
      const summary: ConversationSummary = existing === undefined ? { openid: m.openid, messages: 1, last: m, lastUserMessageAt: null, subscribed: null, paused: false } : { ...existing, last: m, messages: existing.messages + (existing.last.id === m.id ? 0 : 1) }
      if (i !== -1) conversations.splice(i, 1)
      conversations.unshift(summary)
      drawList()
    }
    if (current !== undefined && current.openid === m.openid) {
      const j = current.messages.findIndex((x) => x.id === m.id)
      if (j === -1) {
        current.messages.push(m)
        if (m.msgType !== 'event') current.window = { ...current.window, lastUserMessageAt: m.at, closesAt: m.at + 48 * 3600_000, sendsLeft: 5 }
      } else current.messages[j] = m
      drawThread(true)
      drawWindow()
    }
  }

  /** A new answer, or one that moved on (a pending answer delivered or expired). */
  function onReply(r: OperatorReply): void {
    if (current === undefined || current.openid !== r.openid) return
    const i = current.replies.findIndex((x) => x.id === r.id)
    if (i === -1) current.replies.push(r)
    else if (current.replies[i]!.status === r.status) return
    else current.replies[i] = r
    drawThread(true)
  }

  function onPause(openid: string, pause: Pause | null): void {
    const c = conversations.find((x) => x.openid === openid)
    if (c !== undefined) {
      c.paused = pause !== null
      drawList()
    }
    if (current?.openid === openid) {
      current.window.pause = pause
      drawWindow()
    }
  }

  // ---- the conversation pane ----
  const thread = h('ol', { class: 'thread', 'aria-label': t('inbox.thread') })
  const windowLine = h('div', { class: 'window' })
  const pauseButton = h('button', { type: 'button', class: 'secondary' })
  const followerLine = h('div', { class: 'follower muted' })
  const text = h('textarea', { rows: 3, placeholder: t('inbox.placeholder'), 'aria-label': t('inbox.answer'), maxlength: 2048 })
  const counter = h('span', { class: 'counter muted', 'aria-live': 'polite' })
  const answerError = h('div', { class: 'answer-error', role: 'alert' })
  const sendButton = h('button', { type: 'submit', class: 'primary' }, t('inbox.send'))
  const file = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/gif', class: 'visually-hidden', id: 'answer-image', tabindex: '-1' })
  const imageButton = h('button', { type: 'button', class: 'secondary', onclick: () => file.click() }, t('inbox.image'))
  let countdownTimer: number | undefined

  function drawWindow(): void {
    if (current === undefined) return
    const w = current.window
    const now = Date.now()
    for (const el of thread.querySelectorAll<HTMLElement>('[data-expires]')) el.textContent = expiresIn(Number(el.dataset.expires), now)
    text.placeholder = w.way.way === 'next-message' ? t('inbox.placeholderNext') : t('inbox.placeholder')
    if (w.way.way === 'next-message') {
      const how = w.way.keyword === null ? t('inbox.nextMessage', { ttl: duration(w.way.ttlMs) }) : t('inbox.nextMessageKeyword', { keyword: w.way.keyword, ttl: duration(w.way.ttlMs) })
      replace(windowLine, h('span', { class: 'next-message' }, how), ' ', h('span', { class: 'muted' }, t(`inbox.because.${w.way.because}`)))
    } else if (w.closesAt === null) replace(windowLine, h('span', { class: 'closed' }, t('inbox.windowNever')))
    else if (w.closesAt <= now) replace(windowLine, h('span', { class: 'closed' }, t('inbox.windowClosed')), ' ', h('span', { class: 'muted' }, t('errcode.45015')))
    else
      replace(
        windowLine,
        h('span', { class: 'open' }, t('inbox.windowOpen', { left: countdown(w.closesAt - now) })),
        ' · ',
        h('span', { class: w.sendsLeft === 0 ? 'closed' : 'muted' }, t('inbox.sendsLeft', { n: w.sendsLeft })),
      )
    const p = w.pause
    pauseButton.textContent = p === null ? t('inbox.pause') : t('inbox.resume')
    pauseButton.setAttribute('aria-pressed', String(p !== null))
    pauseButton.title = p === null ? t('inbox.pauseHelp') : t('inbox.pausedBy', { name: p.operator, until: time(p.until) })
    pauseButton.classList.toggle('paused', p !== null)
  }

  function drawThread(scroll: boolean): void {
    if (current === undefined) return
    const items: Array<{ at: number; node: HTMLElement }> = []
    const carried = carriedAnswers(current.messages, current.replies)
    for (const m of current.messages) {
      const from = h('div', { class: `bubble user${m.msgType === 'event' ? ' event' : ''}`, 'data-message': String(m.id) }, messageBody(m), h('div', { class: 'meta' }, h('time', { datetime: new Date(m.at).toISOString(), title: dateTime(m.at) }, time(m.at))))
      // an operator's answer handed out as this message's passive reply shows there, as the user saw it
      const answer = carried.get(m.id)
      items.push({ at: m.at, node: h('li', { class: 'turn' }, from, answer === undefined ? botReply(m) : operatorBubble(answer)) })
    }
    const shown = new Set(carried.values())
    for (const r of current.replies) if (!shown.has(r)) items.push({ at: r.sentAt, node: h('li', { class: 'turn mine' }, operatorBubble(r)) })
    items.sort((a, b) => a.at - b.at)
    const nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80
    replace(thread, current.hasMore ? h('li', { class: 'older' }, h('button', { type: 'button', class: 'link', onclick: () => void loadOlder() }, t('inbox.older'))) : null, items.map((i) => i.node))
    if (scroll && nearBottom) thread.scrollTop = thread.scrollHeight
  }

  async function loadOlder(): Promise<void> {
    if (current === undefined || current.messages.length === 0) return
    const c = current
    const r = await get<Conversation>(`/conversations/${encodeURIComponent(c.openid)}?before=${c.messages[0]!.id}`)
    c.messages = [...r.messages, ...c.messages]
    c.replies = [...r.replies.filter((x) => !c.replies.some((y) => y.id === x.id)), ...c.replies]
    c.hasMore = r.hasMore
    drawThread(false)
  }

  /** Reads the open conversation again and merges it (the answer being typed is kept). */
  async function refresh(openid: string): Promise<void> {
    try {
      const r = await get<Conversation>(`/conversations/${encodeURIComponent(openid)}`)
      if (current?.openid !== openid) return
      for (const m of r.messages) if (!current.messages.some((x) => x.id === m.id)) current.messages.push(m)
      current.messages.sort((a, b) => a.id - b.id)
      for (const x of r.replies) if (!current.replies.some((y) => y.id === x.id)) current.replies.push(x)
      current.window = r.window
      drawThread(true)
      drawWindow()
    } catch {
      // the next event or reconnect tries again
    }
  }

  async function openConversation(openid: string): Promise<void> {
    try {
      current = await get<Conversation>(`/conversations/${encodeURIComponent(openid)}`)
    } catch {
      replace(pane, h('p', { class: 'empty' }, t('app.loadFailed')))
      return
    }
    const f = current.follower
    followerLine.textContent = f === null ? t('inbox.followerUnknown') : f.subscribed ? t('inbox.followerSince', { when: f.subscribedAt === null ? '?' : dateTime(f.subscribedAt), scene: f.scene ?? '—' }) : t('inbox.followerGone')
    replace(
      pane,
      h(
        'header',
        { class: 'conv-head' },
        h('a', { href: '#/inbox', class: 'back', 'aria-label': t('inbox.back') }, '‹'),
        h('div', { class: 'conv-title' }, h('h2', { class: 'openid' }, openid), followerLine),
        h('a', { href: `#/followers/${encodeURIComponent(openid)}`, class: 'link' }, t('inbox.profile')),
        pauseButton,
      ),
      thread,
      h('form', { class: 'composer', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void sendText()) }, windowLine, text, h('div', { class: 'composer-row' }, counter, answerError, imageButton, file, sendButton)),
    )
    drawWindow()
    drawThread(false)
    thread.scrollTop = thread.scrollHeight
    updateCounter()
  }

  function explain(err: unknown): string {
    if (err instanceof ApiError) {
      if (err.errcode !== undefined) return tMaybe(`errcode.${err.errcode}`, err.message)
      if (err.reason !== undefined) return tMaybe(`reason.${err.reason}`, err.message)
      return err.message
    }
    return t('app.unreachable')
  }

  async function answer(send: () => Promise<{ reply: OperatorReply; window: WindowInfo }>): Promise<void> {
    if (current === undefined) return
    const c = current
    answerError.textContent = ''
    sendButton.disabled = imageButton.disabled = true
    try {
      const r = await send()
      c.window = r.window
      onReply(r.reply)
      drawWindow()
      text.value = ''
      updateCounter()
      app.notify(r.reply.via === 'next-message' ? t('inbox.queued') : t('inbox.sent'))
    } catch (err) {
      answerError.textContent = explain(err)
      const failed = err instanceof ApiError ? (err.body.reply as OperatorReply | undefined) : undefined
      if (failed !== undefined) onReply(failed)
    } finally {
      sendButton.disabled = imageButton.disabled = false
    }
  }

  function sendText(): Promise<void> {
    const content = text.value
    if (content.trim() === '' || current === undefined) return Promise.resolve()
    return answer(() => post(`/conversations/${encodeURIComponent(current!.openid)}/text`, { content }))
  }

  function updateCounter(): void {
    const bytes = utf8Bytes(text.value)
    counter.textContent = `${bytes}/${MAX_TEXT_BYTES}`
    counter.classList.toggle('over', bytes > MAX_TEXT_BYTES)
  }
  text.addEventListener('input', updateCounter)
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault()
      void sendText()
    }
  })
  file.addEventListener('change', () => {
    const chosen = file.files?.[0]
    file.value = ''
    if (chosen === undefined || current === undefined) return
    if (chosen.size > 2 * 1024 * 1024) {
      answerError.textContent = t('inbox.imageTooLarge')
      return
    }
    void answer(() => call('POST', `/conversations/${encodeURIComponent(current!.openid)}/image`, undefined, { raw: chosen, contentType: chosen.type }))
  })
  pauseButton.addEventListener('click', async () => {
    if (current === undefined) return
    const openid = current.openid
    try {
      const r = current.window.pause === null ? await post<{ pause: Pause }>(`/conversations/${encodeURIComponent(openid)}/pause`, { minutes: 120 }) : await del<{ pause: null }>(`/conversations/${encodeURIComponent(openid)}/pause`)
      onPause(openid, r.pause)
      app.notify(r.pause === null ? t('inbox.resumed') : t('inbox.paused'))
    } catch (err) {
      app.notify(explain(err), 'error')
    }
  })

  // ---- live ----
  const events = new EventSource(apiUrl('/live'))
  const parse = <T,>(e: Event) => JSON.parse((e as MessageEvent<string>).data) as T
  events.addEventListener('message', (e) => onMessage(parse<MessageView>(e)))
  events.addEventListener('reply', (e) => onReply(parse<OperatorReply>(e)))
  events.addEventListener('pause', (e) => {
    const p = parse<{ openid: string; pause: Pause | null }>(e)
    onPause(p.openid, p.pause)
  })
  events.addEventListener('gap', () => {
    void loadList()
    if (current !== undefined) void openConversation(current.openid)
  })
  // (re)connected: what arrived before the stream opened is read once more, so nothing falls between
  let opening: Promise<void> | undefined
  events.addEventListener('open', () => {
    layout.classList.remove('offline')
    void loadList()
    void (opening ?? Promise.resolve()).then(() => (current === undefined ? undefined : refresh(current.openid)))
  })
  events.addEventListener('error', () => layout.classList.add('offline'))

  countdownTimer = window.setInterval(drawWindow, 1000)
  void loadList()
  if (selected !== undefined) opening = openConversation(selected)
  else replace(pane, h('div', { class: 'placeholder' }, h('p', null, t('inbox.pick'))))

  return () => {
    events.close()
    clearInterval(countdownTimer)
    clearTimeout(searchTimer)
  }
}

/**
 * Which message carried each delivered pending answer of an operator: the first message after
 * the answer was written whose passive reply is that answer (message id → answer).
 */
function carriedAnswers(messages: MessageView[], replies: OperatorReply[]): Map<number, OperatorReply> {
  const carried = new Map<number, OperatorReply>()
  for (const r of replies) {
    if (r.via !== 'next-message' || r.status !== 'sent') continue
    const m = messages.find((x) => x.at >= r.sentAt && !carried.has(x.id) && (r.msgType === 'text' ? x.reply?.fields.Content === r.content : x.reply?.fields.MediaId === r.mediaId))
    if (m !== undefined) carried.set(m.id, r)
  }
  return carried
}

/** A coloured square with the OpenID's last two characters: tells conversations apart at a glance. */
function avatar(openid: string): HTMLElement {
  let hash = 0
  for (const ch of openid) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0
  const el = h('span', { class: 'avatar', 'aria-hidden': 'true' }, openid.slice(-2))
  el.style.backgroundColor = `hsl(${hash % 360} 45% 86%)`
  el.style.color = `hsl(${hash % 360} 40% 30%)`
  return el
}
