/**
 * Helpers for the deadline suites: a logger that keeps lines, a message recorder in memory,
 * a customer-service sender whose answers the test decides, and gates that let a handler
 * finish exactly when the test says (so no test depends on how fast the machine is).
 */
import type { InboundRecord, MessageRecorder, OutcomeRecord } from '../../src/bot-options.js'
import type { Logger } from '../../src/logger.js'
import type { Reply } from '../../src/reply/types.js'

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string
}

export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: LogLine['level']) => (obj: object, msg?: string) => void lines.push({ level, obj: { ...bindings, ...obj }, msg: msg ?? '' })
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => make({ ...bindings, ...more }) }
  }
  return Object.assign(make({}), { lines })
}

/** A promise the test resolves by hand. */
export interface Gate {
  promise: Promise<void>
  open(): void
}
export function gate(): Gate {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

/** The message log in memory, with the SQL log's rule: a retry (same account and msgKey) counts a delivery on the first row. */
export class MemoryRecorder implements MessageRecorder {
  readonly rows: Array<InboundRecord & { id: number; deliveries: number; outcome?: OutcomeRecord }> = []
  async recordInbound(entry: InboundRecord): Promise<number> {
    const known = this.rows.find((r) => r.appId === entry.appId && r.msgKey === entry.msgKey)
    if (known !== undefined) {
      known.deliveries++
      return known.id
    }
    this.rows.push({ ...entry, id: this.rows.length + 1, deliveries: 1 })
    return this.rows.length
  }
  async recordOutcome(id: string | number, outcome: OutcomeRecord): Promise<void> {
    const row = this.rows.find((r) => r.id === id)
    if (row === undefined) throw new Error(`no row ${id}`)
    row.outcome = outcome
  }
}

/** An error shaped like WechatApiError (what the classifier reads is `errcode`). */
export function wechatError(errcode: number, errmsg = 'refused'): Error & { errcode: number } {
  return Object.assign(new Error(`/cgi-bin/message/custom/send: errcode ${errcode} ${errmsg}`), { errcode })
}

export interface SenderCall {
  kind: 'send' | 'typing'
  openid: string
  reply?: Reply
  on?: boolean
}

/**
 * A customer-service sender: every call is logged in order; `failNext` queues an error for
 * the next call of a kind; `hold` makes calls of a kind wait for a gate; `waitFor` resolves
 * once the log holds a matching call.
 */
export class FakeSender {
  readonly calls: SenderCall[] = []
  private readonly failures: Record<SenderCall['kind'], unknown[]> = { send: [], typing: [] }
  private readonly holds: Record<SenderCall['kind'], Promise<void> | undefined> = { send: undefined, typing: undefined }
  private readonly waiters = new Set<() => void>()
  readonly customerService = {
    sendReply: (openid: string, reply: Reply) => this.record({ kind: 'send', openid, reply }),
    typing: (openid: string, on: boolean) => this.record({ kind: 'typing', openid, on }),
  }

  failNext(kind: SenderCall['kind'], err: unknown): this {
    this.failures[kind].push(err)
    return this
  }

  hold(kind: SenderCall['kind'], until: Promise<void>): this {
    this.holds[kind] = until
    return this
  }

  sends(): Reply[] {
    return this.calls.filter((c) => c.kind === 'send').map((c) => c.reply as Reply)
  }

  /** Resolves when a call matching `match` has been logged (bounded by the test runner's timeout). */
  waitFor(match: (call: SenderCall, index: number) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.calls.some(match)) {
          this.waiters.delete(check)
          resolve()
        }
      }
      this.waiters.add(check)
      check()
    })
  }

  private async record(call: SenderCall): Promise<void> {
    await this.holds[call.kind]
    this.calls.push(call)
    for (const wake of [...this.waiters]) wake()
    const failure = this.failures[call.kind].shift()
    if (failure !== undefined) throw failure
  }
}
