import type { Redis, RedisOptions } from 'ioredis'
import { checkKey, checkTtl, decodeValue, encodeValue } from './codec.js'
import { loadDriver } from './load-driver.js'
import { MAX_TURN_OPERATIONS, TURN_LUA, turnArguments, type TurnOperation } from './redis-turn.js'
import { storageError } from './storage-error.js'
import type { WxmpError } from '../errors.js'
import type { KeyValueStore } from './types.js'

export interface RedisStoreOptions {
  /** Give up connecting after this long. Default 2000 ms. */
  connectTimeoutMs?: number
  /** A command with no answer fails after this long (a half-dead link must not hang a request). Default 2000 ms. */
  commandTimeoutMs?: number
  /** Connection errors ioredis reports in the background (it keeps reconnecting); for logging. */
  onError?: (err: Error) => void
  /** Extra ioredis options; the fail-fast settings above win over them. */
  redis?: RedisOptions
}

type WithTurn = Redis & { wxmpTurn(...args: Array<string | number>): Promise<unknown[]> }

/**
 * Key-value store on Redis, for several server instances sharing dedup, tokens and locks.
 * Fails fast while Redis is down (no offline queue, one retry) instead of stalling requests;
 * ioredis keeps reconnecting in the background and the store recovers on its own.
 *
 * @example
 * const store = new RedisStore('redis://127.0.0.1:6379/0')
 * await store.set('session:oABC', { step: 2 }, 30 * 60_000)
 */
export class RedisStore implements KeyValueStore {
  readonly kind = 'redis'
  private readonly client: WithTurn
  private readonly where: string
  private connecting: Promise<void> | undefined
  private lastConnectionError: Error | undefined

  constructor(url: string, options: RedisStoreOptions = {}) {
    const target = new URL(url)
    this.where = `Redis at ${target.host}${target.pathname.length > 1 ? ` (db ${target.pathname.slice(1)})` : ''}`
    const { Redis } = loadDriver('ioredis')
    const client = new Redis(url, {
      ...options.redis,
      lazyConnect: true,
      enableOfflineQueue: false,
      // this store sends each event-loop turn's commands in one script call itself (see `command`)
      enableAutoPipelining: false,
      maxRetriesPerRequest: 1,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      commandTimeout: options.commandTimeoutMs ?? 2000,
    })
    // Without a listener ioredis prints every reconnect failure to stderr itself.
    client.on('error', (err: Error) => {
      this.lastConnectionError = err
      options.onError?.(err)
    })
    client.on('ready', () => {
      this.lastConnectionError = undefined
    })
    // the number of keys is the call's first argument (the turn's operation count)
    client.defineCommand('wxmpTurn', { lua: TURN_LUA })
    this.client = client as WithTurn
  }

  // Not async methods: each request's replay check, dedup claim and stored answer come through
  // here and wait for the turn's round trip, so each is one promise (the queued operation's),
  // not an async function's besides. Bad input still comes back as a rejected promise.
  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.queued('get', key, undefined, undefined, decodeReply) as Promise<T | undefined>
  }

  set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    return this.queued('set', key, value, ttlMs, nothing) as Promise<void>
  }

  delete(key: string): Promise<void> {
    return this.queued('delete', key, undefined, undefined, nothing) as Promise<void>
  }

  add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    return this.queued('add', key, value, ttlMs, isOk) as Promise<boolean>
  }

  deleteIf(key: string, expected: unknown): Promise<boolean> {
    return this.queued('deleteIf', key, expected, undefined, isOne) as Promise<boolean>
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.client.ping())
  }

  async close(): Promise<void> {
    if (this.client.status === 'ready') {
      await this.client.quit().catch(() => this.client.disconnect())
    } else {
      this.client.disconnect()
    }
  }

  /** The operation checked and queued for this turn's call; a rejected promise when its input is refused. */
  private queued(op: TurnOperation['op'], key: string, value: unknown, ttlMs: number | undefined, answer: (reply: unknown) => unknown): Promise<unknown> {
    try {
      checkKey(key)
      return this.command(turnOperation(op, key, value, ttlMs), answer)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Queues an operation for this event-loop turn's script call (src/storage/redis-turn.ts says
   * why a script). Why not ioredis's auto-pipelining: it flushes on process.nextTick, that is
   * after each request's own callback, so every request's replay check and dedup claim went out
   * in a write of their own; a write to a local socket costs the writer the reader's wake-up
   * (bench/README.md). Here every operation of the turn goes in one call, one write, at its end.
   * Each operation keeps its own answer and its own error, as with separate calls.
   */
  private command(operation: TurnOperation, answer: (reply: unknown) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ operation, answer, resolve, reject })
      if (this.queue.length === 1) setImmediate(this.sendQueued)
    })
  }

  private queue: Array<{ operation: TurnOperation; answer(reply: unknown): unknown; resolve(value: unknown): void; reject(err: unknown): void }> = []

  private readonly sendQueued = () => {
    const queued = this.queue
    this.queue = []
    for (let start = 0; start < queued.length; start += MAX_TURN_OPERATIONS) this.sendTurn(queued.slice(start, start + MAX_TURN_OPERATIONS))
  }

  private sendTurn(queued: RedisStore['queue']): void {
    void this.run('turn', () => this.client.wxmpTurn(...turnArguments(queued.map((entry) => entry.operation)))).then(
      (replies) => {
        queued.forEach((entry, i) => {
          const reply = Array.isArray(replies) && i < replies.length ? replies[i] : new Error('no answer for this operation in the turn script')
          if (reply instanceof Error) entry.reject(this.failure(entry.operation.op, this.reasonFor(reply)))
          else settleWith(entry, reply) // the script's false (a nil reply) arrives as null
        })
      },
      (err: unknown) => {
        for (const entry of queued) entry.reject(err instanceof Error && (err as { code?: unknown }).code === 'WX_ERR_STORAGE' ? this.failure(entry.operation.op, err.cause ?? err) : err)
      },
    )
  }

  private async run<R>(operation: string, command: () => Promise<R>): Promise<R> {
    try {
      await this.connected()
      return await command()
    } catch (err) {
      throw this.failure(operation, this.reasonFor(err))
    }
  }

  /** WX_ERR_STORAGE for this operation, naming where Redis is and what to check. */
  private failure(operation: string, reason: unknown): WxmpError {
    return storageError(this.where, operation, reason, 'is Redis running and the URL (host, port, password, db) right?')
  }

  /** ioredis says "Stream isn't writeable…" while reconnecting; the socket error says why. */
  private reasonFor(err: unknown): unknown {
    return this.client.status === 'ready' ? err : new Error(`not connected (${this.lastConnectionError?.message ?? this.client.status})`, { cause: err })
  }

  /** The first command opens the connection; later ones never wait for a reconnect. */
  private async connected(): Promise<void> {
    if (this.client.status === 'wait') {
      this.connecting ??= this.client.connect().finally(() => {
        this.connecting = undefined
      })
    }
    if (this.connecting !== undefined) await this.connecting
  }
}

/** The script's operation, its value encoded and its TTL checked (the errors every backend gives). */
function turnOperation(op: TurnOperation['op'], key: string, value: unknown, ttlMs: number | undefined): TurnOperation {
  switch (op) {
    case 'get':
    case 'delete':
      return { op, key }
    case 'deleteIf':
      return { op, key, json: encodeValue(key, value) }
    case 'set':
    case 'add':
      return { op, key, json: encodeValue(key, value), ttlMs: checkTtl(ttlMs) }
  }
}

/** What each operation's caller gets from its reply. */
const decodeReply = (reply: unknown) => (reply === null ? undefined : decodeValue(reply as string))
const nothing = () => undefined
const isOk = (reply: unknown) => reply === 'OK'
const isOne = (reply: unknown) => reply === 1

/** Resolves with the operation's answer, or rejects when that cannot be read (a value not JSON). */
function settleWith(entry: { answer(reply: unknown): unknown; resolve(value: unknown): void; reject(err: unknown): void }, reply: unknown): void {
  try {
    entry.resolve(entry.answer(reply))
  } catch (err) {
    entry.reject(err)
  }
}
