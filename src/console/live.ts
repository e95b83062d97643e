/**
 * The inbox's live feed: server-sent events. While at least one page listens, the feed reads
 * the message log for rows after the last one it saw (every 500 ms, and at once when this
 * instance answered a message), plus the rows still waiting for their outcome. Reading the
 * log rather than hooking the bot means messages answered by other instances of a fleet show
 * up too, and the webhook does no extra work for the console: with nobody listening the feed
 * does nothing at all. A burst larger than one read is skipped with a "gap" event (the
 * inbox reloads) instead of streaming thousands of rows to a page.
 *
 * Answers waiting for a user's next message (the bot's late ones, and operators') change when
 * that user writes again: for users known to have one waiting, a completed new row also sends
 * their updated rows and the operators' answers whose fate is now known.
 */
import type { ServerResponse } from 'node:http'
import type { Logger } from '../logger.js'
import type { MessageRecord } from '../records/message-log.js'
import type { OperatorAnswers } from './answers.js'
import type { Conversations, OperatorReply } from './conversations.js'
import { toMessageView } from './message-view.js'
import type { Pause } from './pauses.js'

export interface LiveClient {
  res: ServerResponse
  sessionId: string
}

const BATCH = 200
const WATCH_MAX = 500
const WATCH_FOR_MS = 10 * 60_000

export class LiveFeed {
  private readonly clients = new Set<LiveClient>()
  private lastId: number | undefined
  /** Rows seen without an outcome yet: id → when first seen. */
  private readonly waiting = new Map<number, number>()
  private timer: NodeJS.Timeout | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private polling: Promise<void> | undefined
  /** The start in progress, shared by listeners that arrive together while the feed is stopped. */
  private starting: Promise<void> | undefined
  /** Listeners between their arrival and their stream (or their leaving before it). */
  private arriving = 0
  private nudged: NodeJS.Timeout | undefined
  /** Users with an answer waiting for their next message (bot or operator) → when their rows were last seen as they are. */
  private readonly awaiting = new Map<string, number>()

  constructor(
    private readonly conversations: Conversations,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly options: { pollMs?: number; now?: () => number; answers?: Pick<OperatorAnswers, 'settle'>; pendingTtlMs?: number } = {},
  ) {}

  get listeners(): number {
    return this.clients.size
  }

  async add(client: LiveClient): Promise<void> {
    // The first listener: where the feed starts is read before its stream opens. The page reads
    // the conversation it shows once the stream is open, so a row written in between is either
    // in that read or sent; read after the stream opened, it could be in neither.
    this.arriving++
    try {
      if (this.timer === undefined) await (this.starting ??= this.start().finally(() => (this.starting = undefined)))
    } finally {
      this.arriving--
    }
    if (client.res.destroyed) {
      // stopped only when no listener is streaming or on its way in
      if (this.clients.size === 0 && this.arriving === 0) this.stop()
      return
    }
    client.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    })
    client.res.write('retry: 2000\n\n')
    this.clients.add(client)
    client.res.on('close', () => this.remove(client))
  }

  /** Ends every stream of a signed-out session. */
  endSession(sessionId: string): void {
    for (const c of this.clients) if (c.sessionId === sessionId) c.res.end()
  }

  /** This instance answered a message: read soon rather than at the next tick. */
  nudge(): void {
    if (this.clients.size === 0 || this.nudged !== undefined) return
    this.nudged = setTimeout(() => {
      this.nudged = undefined
      void this.poll()
    }, 30)
  }

  reply(reply: OperatorReply): void {
    if (reply.status === 'pending' && !this.awaiting.has(reply.openid)) this.awaiting.set(reply.openid, reply.sentAt)
    this.send('reply', reply)
  }

  pause(openid: string, pause: Pause | undefined): void {
    this.send('pause', { openid, pause: pause ?? null })
  }

  close(): void {
    for (const c of this.clients) c.res.end()
    this.clients.clear()
    this.stop()
  }

  private async start(): Promise<void> {
    this.lastId = await this.conversations.maxId()
    const now = (this.options.now ?? Date.now)()
    for (const openid of await this.conversations.awaitingNextMessage(now - (this.options.pendingTtlMs ?? 24 * 3600_000))) this.awaiting.set(openid, now)
    // rows already there whose outcome is still to come: the page may have read them without
    // it, and they are not new to the feed, so only watching them sends their outcome
    for (const id of await this.conversations.incompleteSince(now - WATCH_FOR_MS, WATCH_MAX)) this.waiting.set(id, now)
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 500)
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.res.write(': keep-alive\n\n')
    }, 25_000)
    this.timer.unref()
    this.heartbeat.unref()
  }

  private stop(): void {
    clearInterval(this.timer)
    clearInterval(this.heartbeat)
    clearTimeout(this.nudged)
    this.timer = this.heartbeat = this.nudged = undefined
    this.waiting.clear()
    this.awaiting.clear()
  }

  private remove(client: LiveClient): void {
    this.clients.delete(client)
    if (this.clients.size === 0 && this.arriving === 0) this.stop()
  }

  private poll(): Promise<void> {
    this.polling ??= this.read().finally(() => (this.polling = undefined))
    return this.polling
  }

  private async read(): Promise<void> {
    if (this.clients.size === 0 || this.lastId === undefined) return
    const now = (this.options.now ?? Date.now)()
    for (const [id, seen] of this.waiting) if (now - seen > WATCH_FOR_MS) this.waiting.delete(id)
    let rows
    try {
      rows = await this.conversations.since(this.lastId, BATCH, [...this.waiting.keys()])
    } catch (err) {
      this.logger.warn({ code: 'WX_ERR_STORAGE', err: (err as Error).message }, 'console: live feed could not read the message log')
      return
    }
    let fresh = 0
    const completed: MessageRecord[] = []
    for (const row of rows) {
      if (row.id > this.lastId) {
        this.lastId = row.id
        fresh++
      }
      if (row.completedAt === null) {
        if (this.waiting.size < WATCH_MAX) this.waiting.set(row.id, now)
      } else {
        this.waiting.delete(row.id)
        completed.push(row)
        if (row.replyStatus === 'pending') this.awaiting.set(row.openid, Math.min(this.awaiting.get(row.openid) ?? Infinity, row.completedAt))
      }
      this.send('message', toMessageView(row))
    }
    await this.followPending(completed)
    if (fresh === BATCH) {
      // more arrived than a page can follow: skip to the newest and let the page reload
      this.lastId = await this.conversations.maxId().catch(() => this.lastId ?? 0)
      this.waiting.clear()
      this.send('gap', { lastId: this.lastId })
    }
  }

  /** A user with an answer waiting wrote again: their earlier rows and operators' answers may have moved on. */
  private async followPending(completed: MessageRecord[]): Promise<void> {
    const latest = new Map<string, MessageRecord>()
    for (const row of completed) if (this.awaiting.has(row.openid)) latest.set(row.openid, row)
    if (latest.size === 0) return
    try {
      for (const row of latest.values()) {
        const updated = await this.conversations.updatedBefore(row.openid, row.id, this.awaiting.get(row.openid) ?? row.receivedAt)
        for (const earlier of updated) this.send('message', toMessageView(earlier))
        this.awaiting.set(row.openid, row.completedAt ?? row.receivedAt)
      }
      // settled here or by another instance of the fleet: the page gets each answer as it now stands
      await this.options.answers?.settle([...latest.keys()])
      const since = (this.options.now ?? Date.now)() - (this.options.pendingTtlMs ?? 24 * 3600_000)
      for (const openid of latest.keys()) for (const reply of await this.conversations.replies(openid, { since, limit: 20 })) if (reply.via === 'next-message') this.send('reply', reply)
      // still waiting (more pages, another answer)? looked at again on the next message; else forgotten
      const still = new Set([...(await this.conversations.awaitingNextMessage(0, [...latest.keys()]))])
      for (const openid of latest.keys()) if (!still.has(openid)) this.awaiting.delete(openid)
    } catch (err) {
      this.logger.warn({ code: 'WX_ERR_STORAGE', err: (err as Error).message }, 'console: live feed could not read answers waiting for the next message')
    }
  }

  private send(event: string, data: unknown): void {
    if (this.clients.size === 0) return
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
    for (const c of this.clients) c.res.write(frame)
  }
}
