/**
 * The inbox: conversations, one conversation, the live feed, media, and answering by hand
 * through customer-service messages (text and image), with the bot paused per conversation.
 */
import { WechatApiError } from '../../api/errors.js'
import { apiFailure, replyStatusFor, scrub } from '../api-errors.js'
import type { ConsoleDeps } from '../deps.js'
import { badInput, ConsoleHttpError, readBody, readJson, remoteOf, send, sendJson } from '../http.js'
import { amrDurationMs, INLINE_TYPES } from '../media.js'
import type { Route, RouteContext } from '../router.js'

const OPENID = '(?<openid>[A-Za-z0-9_-]{1,64})'
const WINDOW_MS = 48 * 3600_000
/** Customer-service sends allowed per user message (protocol: 5 within the 48 hours). */
const SENDS_PER_MESSAGE = 5
const MAX_TEXT_BYTES = 2048
const IMAGE_TYPES: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif' }

export function inboxRoutes(deps: ConsoleDeps): Route[] {
  const requireApi = () => {
    const api = deps.api()
    if (api === undefined) throw new ConsoleHttpError(409, 'WX_ERR_CONFIG', 'the WeChat API is off: set WECHAT_APPID and WECHAT_APPSECRET', { reason: 'no-api' })
    return api
  }
  const int = (ctx: RouteContext, name: string) => {
    const v = ctx.url.searchParams.get(name)
    if (v === null || v === '') return undefined
    if (!/^\d{1,15}$/.test(v)) throw badInput(`${name} must be a whole number`)
    return Number(v)
  }

  /** The window, the sends left in it, and the pause: what the answer box shows. */
  const windowOf = async (openid: string) => {
    const lastUserMessageAt = await deps.conversations.lastUserMessageAt(openid)
    const closesAt = lastUserMessageAt === null ? null : lastUserMessageAt + WINDOW_MS
    const sent = lastUserMessageAt === null ? [] : await deps.conversations.replies(openid, { since: lastUserMessageAt })
    const used = sent.filter((r) => r.status === 'sent').length
    return { lastUserMessageAt, closesAt, sendsLeft: Math.max(0, SENDS_PER_MESSAGE - used), pause: deps.pauses.get(openid) ?? null }
  }

  /** Sends, then records the answer (sent or why not), audits it and shows it on every open page. */
  const answered = async (ctx: RouteContext, openid: string, msgType: 'text' | 'image', content: string | null, sending: (media: { id: string | null }) => Promise<void>) => {
    let errcode: number | null = null
    let error: string | null = null
    let failure: ConsoleHttpError | undefined
    const media = { id: null as string | null }
    try {
      await sending(media)
    } catch (err) {
      failure = apiFailure(err)
      errcode = err instanceof WechatApiError ? err.errcode : null
      error = scrub(err instanceof Error ? err.message : String(err)).slice(0, 1000)
    }
    const status = failure === undefined ? 'sent' : replyStatusFor(errcode ?? undefined)
    const reply = await deps.conversations.recordReply({ openid, operator: ctx.session.user, msgType, content, mediaId: media.id, sentAt: deps.now(), status, errcode, error })
    await deps.audit.record({ operator: ctx.session.user, action: `answer.${msgType}`, target: openid, remote: remoteOf(ctx.req), ok: failure === undefined, detail: { replyId: reply.id, status, errcode } })
    deps.live.reply(reply)
    if (failure !== undefined) throw new ConsoleHttpError(failure.status, failure.code, failure.message, { ...failure.extra, reply })
    sendJson(ctx.res, 200, { reply, window: await windowOf(openid) })
  }

  return [
    {
      method: 'GET',
      pattern: /^\/conversations$/,
      async handle(ctx) {
        const search = ctx.url.searchParams.get('q')?.trim().slice(0, 64) ?? ''
        const conversations = await deps.conversations.list({ search, limit: int(ctx, 'limit') ?? 50, ...(int(ctx, 'before') === undefined ? {} : { beforeId: int(ctx, 'before')! }) })
        sendJson(ctx.res, 200, { conversations: conversations.map((c) => ({ ...c, paused: deps.pauses.get(c.openid) !== undefined })), windowMs: WINDOW_MS })
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/conversations/${OPENID}$`),
      async handle(ctx) {
        const { openid } = ctx.params as { openid: string }
        const before = int(ctx, 'before')
        const messages = await deps.conversations.messages(openid, { limit: 50, ...(before === undefined ? {} : { beforeId: before }) })
        const since = messages[0]?.at
        const replies = await deps.conversations.replies(openid, since === undefined || before === undefined ? {} : { since })
        const follower = await deps.records.followers.get(deps.appId, openid)
        sendJson(ctx.res, 200, { openid, messages, replies, follower: follower ?? null, window: await windowOf(openid), windowMs: WINDOW_MS, hasMore: messages.length === 50 })
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/conversations/${OPENID}/text$`),
      async handle(ctx) {
        const { openid } = ctx.params as { openid: string }
        const body = await readJson(ctx.req)
        const content = typeof body.content === 'string' ? body.content.replace(/\r\n/g, '\n') : ''
        if (content.trim() === '') throw badInput('the answer is empty')
        if (Buffer.byteLength(content) > MAX_TEXT_BYTES) throw badInput(`the answer is ${Buffer.byteLength(content)} bytes; keep it under ${MAX_TEXT_BYTES} (a Chinese character is 3 bytes)`)
        const api = requireApi()
        await answered(ctx, openid, 'text', content, () => api.customerService.sendText(openid, content))
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/conversations/${OPENID}/image$`),
      async handle(ctx) {
        const { openid } = ctx.params as { openid: string }
        const type = String(ctx.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
        const ext = IMAGE_TYPES[type]
        if (ext === undefined) throw badInput('send the image as image/jpeg, image/png or image/gif')
        const data = await readBody(ctx.req, 2 * 1024 * 1024)
        if (data.length === 0) throw badInput('the image is empty')
        const api = requireApi()
        await answered(ctx, openid, 'image', null, async (media) => {
          media.id = (await api.media.upload('image', data, `answer.${ext}`, type)).mediaId
          await api.customerService.sendImage(openid, media.id)
        })
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/conversations/${OPENID}/pause$`),
      async handle(ctx) {
        const { openid } = ctx.params as { openid: string }
        const body = await readJson(ctx.req)
        const minutes = body.minutes === undefined ? 120 : Number(body.minutes)
        if (!Number.isInteger(minutes) || minutes < 1 || minutes > 7 * 24 * 60) throw badInput('minutes must be a whole number from 1 to 10080 (7 days)')
        const pause = await deps.pauses.pause(openid, ctx.session.user, minutes * 60_000)
        await deps.audit.record({ operator: ctx.session.user, action: 'bot.pause', target: openid, remote: remoteOf(ctx.req), ok: true, detail: { minutes } })
        deps.live.pause(openid, pause)
        sendJson(ctx.res, 200, { pause })
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/conversations/${OPENID}/pause$`),
      async handle(ctx) {
        const { openid } = ctx.params as { openid: string }
        const was = await deps.pauses.resume(openid)
        await deps.audit.record({ operator: ctx.session.user, action: 'bot.resume', target: openid, remote: remoteOf(ctx.req), ok: true, detail: { wasPaused: was } })
        deps.live.pause(openid, undefined)
        sendJson(ctx.res, 200, { pause: null })
      },
    },
    {
      method: 'GET',
      pattern: /^\/live$/,
      async handle(ctx) {
        await deps.live.add({ res: ctx.res, sessionId: ctx.sessionId })
      },
    },
    {
      method: 'GET',
      pattern: /^\/media\/(?<mediaId>[A-Za-z0-9_-]{1,128})$/,
      async handle(ctx) {
        requireApi()
        let file
        try {
          file = await deps.media.get(ctx.params.mediaId!)
        } catch (err) {
          throw apiFailure(err)
        }
        const inline = INLINE_TYPES.has(file.contentType)
        send(ctx.res, 200, file.data, {
          'content-type': inline ? file.contentType : 'application/octet-stream',
          'content-disposition': `${inline ? 'inline' : 'attachment'}; filename="${file.filename}"`,
          'cache-control': 'private, max-age=3600',
          // a file from a follower is never a page: no script, no plugins, even if opened directly
          'content-security-policy': "default-src 'none'; sandbox",
        })
      },
    },
    {
      method: 'GET',
      pattern: /^\/media\/(?<mediaId>[A-Za-z0-9_-]{1,128})\/voice$/,
      async handle(ctx) {
        requireApi()
        let file
        try {
          file = await deps.media.get(ctx.params.mediaId!)
        } catch (err) {
          throw apiFailure(err)
        }
        sendJson(ctx.res, 200, { durationMs: amrDurationMs(file.data) ?? null, bytes: file.data.length, contentType: file.contentType })
      },
    },
  ]
}
