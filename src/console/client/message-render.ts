/**
 * One message as a person would see it in WeChat: text, an image thumbnail (through the
 * console's media route), a voice note with its length, a location card without a map
 * service, a link card, an event badge; and the bot's reply with how it left. Every string
 * from the message goes in as text.
 */
import { apiUrl, get } from './api.js'
import { externalLink, h, replace, svg } from './dom.js'
import { countdown, latency, seconds, time } from './format.js'
import { t, tMaybe } from './i18n.js'
import type { MessageView, OperatorReply, ReplyView } from './types.js'

const media = (id: string) => apiUrl(`/media/${encodeURIComponent(id)}`)

function thumbnail(mediaId: string, alt: string): HTMLElement {
  const img = h('img', { src: media(mediaId), alt, loading: 'lazy', class: 'thumb' })
  const link = h('a', { href: media(mediaId), target: '_blank', rel: 'noopener noreferrer', class: 'thumb-link' }, img)
  img.addEventListener('error', () => replace(link, h('span', { class: 'expired' }, t('msg.mediaGone'))), { once: true })
  return link
}

function pin(): SVGElement {
  return svg('svg', { viewBox: '0 0 24 24', width: 28, height: 28, 'aria-hidden': 'true', class: 'pin' }, svg('path', { d: 'M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z' }))
}

function coordinate(value: string | undefined, positive: string, negative: string): string {
  const n = Number(value)
  if (value === undefined || !Number.isFinite(n)) return value ?? '?'
  return `${Math.abs(n).toFixed(6)}° ${n >= 0 ? positive : negative}`
}

function voiceLength(mediaId: string): HTMLElement {
  const span = h('span', { class: 'voice-length' }, '…')
  get<{ durationMs: number | null }>(`/media/${encodeURIComponent(mediaId)}/voice`).then(
    (r) => (span.textContent = r.durationMs === null ? t('msg.voiceUnknownLength') : seconds(r.durationMs)),
    () => (span.textContent = t('msg.mediaGone')),
  )
  return span
}

/** The event as a badge: 关注 (场景 42), 点击菜单 KEY… */
function eventBadge(m: MessageView): HTMLElement {
  const f = m.fields
  const event = m.event ?? ''
  const key = f.EventKey ?? ''
  let label: string
  switch (event.toLowerCase()) {
    case 'subscribe':
      label = key.startsWith('qrscene_') ? t('event.subscribeScene', { scene: key.slice(8) }) : t('event.subscribe')
      break
    case 'unsubscribe':
      label = t('event.unsubscribe')
      break
    case 'scan':
      label = t('event.scan', { scene: key })
      break
    case 'click':
      label = t('event.click', { key })
      break
    case 'view':
      label = t('event.view', { url: key })
      break
    case 'location':
      label = t('event.location', { lat: f.Latitude ?? '?', lng: f.Longitude ?? '?' })
      break
    case 'scancode_push':
    case 'scancode_waitmsg':
      label = t('event.scancode', { key, result: f.ScanResult ?? '' })
      break
    default:
      label = t('event.other', { event, key })
  }
  return h('span', { class: `badge event event-${event.toLowerCase().replace(/[^a-z_]/g, '')}` }, label)
}

/** The user's side of a message. */
export function messageBody(m: MessageView): HTMLElement {
  const f = m.fields
  switch (m.msgType) {
    case 'text':
      return h('div', { class: 'text' }, f.Content ?? '', f.bizmsgmenuid === undefined ? null : h('span', { class: 'badge' }, t('msg.menuChoice', { id: f.bizmsgmenuid })))
    case 'image':
      return h('div', { class: 'image' }, f.MediaId === undefined ? t('msg.image') : thumbnail(f.MediaId, t('msg.image')))
    case 'voice':
      return h(
        'div',
        { class: 'voice' },
        h('span', { class: 'voice-icon', 'aria-hidden': 'true' }, '))) '),
        h('span', null, t('msg.voice')),
        ' ',
        f.MediaId === undefined ? null : voiceLength(f.MediaId),
        f.Format === undefined ? null : h('span', { class: 'muted' }, ` · ${f.Format}`),
        f.Recognition ? h('div', { class: 'recognition' }, f.Recognition) : null,
        f.MediaId === undefined ? null : h('a', { href: media(f.MediaId), download: '', class: 'download' }, t('msg.download')),
      )
    case 'video':
    case 'shortvideo':
      return h(
        'div',
        { class: 'video' },
        f.ThumbMediaId ? thumbnail(f.ThumbMediaId, t('msg.video')) : null,
        h('span', null, m.msgType === 'video' ? t('msg.video') : t('msg.shortvideo')),
        f.MediaId === undefined ? null : h('a', { href: media(f.MediaId), download: '', class: 'download' }, t('msg.download')),
      )
    case 'location':
      return h(
        'div',
        { class: 'card location' },
        pin(),
        h('div', null, h('div', { class: 'card-title' }, f.Label || t('msg.location')), h('div', { class: 'muted mono' }, `${coordinate(f.Location_X, 'N', 'S')}, ${coordinate(f.Location_Y, 'E', 'W')}`), f.Scale ? h('div', { class: 'muted' }, t('msg.scale', { scale: f.Scale })) : null),
      )
    case 'link':
      return h(
        'div',
        { class: 'card link' },
        h('div', { class: 'card-title' }, externalLink(f.Url ?? '', f.Title || f.Url || t('msg.link'))),
        f.Description ? h('div', { class: 'card-desc' }, f.Description) : null,
        h('div', { class: 'muted url' }, f.Url ?? ''),
      )
    case 'event':
      return h('div', { class: 'event-line' }, eventBadge(m))
    default:
      return h('div', { class: 'other' }, h('span', { class: 'badge' }, m.msgType), ' ', Object.entries(f).map(([k, v]) => `${k}: ${v}`).join(' · '))
  }
}

/** A short line for the conversation list. */
export function preview(m: MessageView): string {
  const f = m.fields
  switch (m.msgType) {
    case 'text':
      return f.Content ?? ''
    case 'image':
      return `[${t('msg.image')}]`
    case 'voice':
      return `[${t('msg.voice')}]${f.Recognition ? ' ' + f.Recognition : ''}`
    case 'video':
    case 'shortvideo':
      return `[${t('msg.video')}]`
    case 'location':
      return `[${t('msg.location')}] ${f.Label ?? ''}`
    case 'link':
      return `[${t('msg.link')}] ${f.Title ?? ''}`
    case 'event':
      return eventBadge(m).textContent ?? ''
    default:
      return `[${m.msgType}]`
  }
}

function replyContent(r: ReplyView): HTMLElement | null {
  const f = r.fields
  if (r.articles !== undefined && r.articles.length > 0) {
    return h('ul', { class: 'articles' }, r.articles.map((a) => h('li', null, externalLink(a.Url ?? '', a.Title ?? ''), a.Description ? h('div', { class: 'muted' }, a.Description) : null)))
  }
  if (f.Content !== undefined) return h('div', { class: 'text' }, f.Content)
  if (r.msgType === 'image' && f.MediaId) return thumbnail(f.MediaId, t('msg.image'))
  if (r.msgType !== undefined && r.msgType !== 'text') return h('div', null, h('span', { class: 'badge' }, tMaybe(`msg.${r.msgType}`, r.msgType)), ' ', f.Title ?? '')
  return null
}

/** How the reply left: 被动回复 · 12 ms, 客服消息 · 超出 48 小时窗口… */
export function replyMeta(r: ReplyView | undefined, m: MessageView): HTMLElement {
  const parts: Array<HTMLElement | string> = []
  if (r === undefined) parts.push(h('span', { class: 'via running' }, m.completed ? t('via.none') : t('via.running')))
  else {
    parts.push(h('span', { class: `via via-${r.via}` }, tMaybe(`via.${r.via}`, r.via)))
    if (r.status !== undefined) parts.push(h('span', { class: `status status-${r.status}` }, tMaybe(`status.${r.status}`, r.status)))
  }
  if (m.latencyMs !== undefined) parts.push(h('span', { class: 'latency' }, latency(m.latencyMs)))
  if (m.deliveries > 1) parts.push(h('span', { class: 'deliveries' }, t('msg.deliveries', { n: m.deliveries })))
  return h('div', { class: 'meta' }, parts)
}

/** The bot's reply bubble (nothing when the bot had nothing to say and nothing failed). */
export function botReply(m: MessageView): HTMLElement | null {
  const r = m.reply
  if (r === undefined && m.completed) return null
  if (r !== undefined && r.via === 'none' && r.status === undefined && r.error === undefined) return h('div', { class: 'bubble bot quiet' }, replyMeta(r, m))
  return h(
    'div',
    { class: 'bubble bot', 'data-reply-for': String(m.id) },
    h('div', { class: 'who-line' }, t('msg.bot')),
    r === undefined ? null : replyContent(r),
    replyMeta(r, m),
    r?.error ? h('div', { class: 'reply-error' }, r.error) : null,
  )
}

/** "23:59:12 后过期", or "expired" once the time is up (the server says so at its next look). */
export function expiresIn(at: number, now = Date.now()): string {
  return at > now ? t('inbox.expiresIn', { left: countdown(at - now) }) : t('status.expired')
}

export function operatorBubble(r: OperatorReply, now = Date.now()): HTMLElement {
  const failed = r.status !== 'sent' && r.status !== 'pending'
  const waiting = r.status === 'pending'
  return h(
    'div',
    { class: `bubble operator${failed ? ' failed' : ''}${waiting ? ' waiting' : ''}`, 'data-operator-reply': String(r.id), 'data-via': r.via },
    h('div', { class: 'who-line' }, t('msg.operator', { name: r.operator }), ' · ', time(r.sentAt)),
    r.msgType === 'text' ? h('div', { class: 'text' }, r.content ?? '') : r.mediaId ? thumbnail(r.mediaId, t('msg.image')) : h('span', null, t('msg.image')),
    h(
      'div',
      { class: 'meta' },
      h('span', { class: `via via-${r.via}` }, t(r.via === 'next-message' ? 'via.next-message' : 'via.customer-service')),
      h('span', { class: `status status-${r.status}` }, tMaybe(`status.${r.status}`, r.status)),
      waiting && r.expiresAt !== undefined ? h('span', { class: 'expires', 'data-expires': String(r.expiresAt) }, expiresIn(r.expiresAt, now)) : null,
      r.errcode === null ? null : h('span', { class: 'errcode' }, `errcode ${r.errcode}`),
    ),
    r.via === 'next-message' && r.errcode === 48001 ? h('div', { class: 'reply-note' }, t('inbox.fellBack')) : null,
    failed && r.errcode !== null ? h('div', { class: 'reply-error' }, tMaybe(`errcode.${r.errcode}`, r.error ?? '')) : failed && r.error ? h('div', { class: 'reply-error' }, r.error) : null,
  )
}
