/**
 * The soak: the real server process under a steady, open-loop rate of mixed messages (every
 * sample type, plaintext and safe mode), `kill -9` in the middle and a restart on the same port,
 * then a check of every answer and of the message log. Loopback only; bounded in time and
 * count; stops by itself. Used by test/hardening/soak.test.ts (short) and scripts/soak.ts (long).
 *
 * WeChat's behaviour is imitated where it matters: a delivery that gets no answer is retried
 * (same message, up to 3 attempts in total), so a message cut off by the kill is delivered again
 * after the restart.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openRecords } from '../../../src/records/open-records.js'
import { readReply, signedRequest, type EncryptionMode } from '../../../src/testing/signed-request.js'
import { SAMPLE_KINDS, nextMsgId, sampleXml, type SampleKind } from '../../../src/testing/samples.js'
import { freePort, startServerProcess, type ServerProcess } from './server-process.js'

export interface SoakOptions {
  /** Total length of the load (ms). */
  durationMs: number
  /** Messages per second, started on a fixed schedule whatever the answers do. */
  ratePerSec: number
  /** When to `kill -9` the server (ms after the start); undefined: no kill. */
  killAtMs?: number
  /** Most deliveries in flight at once; the schedule skips (and counts) beyond it. Default 10 s worth of the rate, at least 256. */
  maxInFlight?: number
  /** Pause before WeChat's retry of an unanswered delivery. Default 2000 ms: 3 attempts span a restart of several seconds. */
  retryAfterMs?: number
  /** A database URL for the message log; default a fresh SQLite file. */
  databaseUrl?: string
  /** Progress lines (the long form prints them). */
  progress?: (line: string) => void
}

export interface SoakReport {
  messages: number
  deliveries: number
  answered200: number
  /** Non-200 answers or failed deliveries that overlapped the kill window. */
  failuresInKillWindow: number
  /** Non-200 answers or failed deliveries outside it: must be 0. */
  failuresOutsideKillWindow: string[]
  /** Messages that never got a 200 (after WeChat-style retries). */
  unanswered: number
  /** Messages answered 200 (on some delivery) with no message-log row: must be 0. */
  rowsLost: string[]
  killWindowMs: number | undefined
  skippedForBackpressure: number
  p50Ms: number
  p99Ms: number
  kinds: number
}

const TOKEN = 'soakToken'
const APP_ID = 'wx9e8d7c6b5a4f3e2d'
const AES_KEY = 'c29ha1Rlc3RLZXkwMTIzNDU2Nzg5YWJjZGVmZ2hpams'
const KINDS: SampleKind[] = ['text', 'text', 'text', 'text', ...SAMPLE_KINDS]

interface Delivery {
  started: number
  ended: number
  ok: boolean
  detail: string
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-soak-'))
  const databaseUrl = options.databaseUrl ?? `sqlite:${join(dir, 'wxmp.db')}`
  const port = await freePort()
  const env = { WECHAT_TOKEN: TOKEN, WECHAT_APPID: APP_ID, WECHAT_APPSECRET: 'soakAppSecret0123456789abcdefghi', WECHAT_AES_KEY: AES_KEY, WECHAT_API_BASE: 'http://127.0.0.1:9', DATABASE_URL: databaseUrl, PORT: String(port), WXMP_LOG_LEVEL: 'warn' }
  let server: ServerProcess | undefined
  const say = options.progress ?? (() => {})
  try {
    server = await startServerProcess(env)
    const url = server.url
    const deliveries: Delivery[] = []
    const answeredOpenids = new Set<string>()
    const unanswered = new Set<string>()
    const latencies: number[] = []
    let inFlight = 0
    let skipped = 0
    let messages = 0
    let killAt: number | undefined
    let readyAt: number | undefined
    const t0 = performance.now()
    const retryAfterMs = options.retryAfterMs ?? 2000
    const maxInFlight = options.maxInFlight ?? Math.max(256, Math.ceil(options.ratePerSec * 10))

    const deliver = async (openid: string, request: ReturnType<typeof signedRequest>, attempt: number): Promise<void> => {
      const started = performance.now()
      let ok = false
      let detail = ''
      try {
        const res = await fetch(url + request.search, { method: 'POST', body: request.body, headers: { 'content-type': 'text/xml' }, signal: AbortSignal.timeout(5000) })
        const body = await res.text()
        ok = res.status === 200
        detail = `HTTP ${res.status} ${body.slice(0, 80)}`
        if (ok) readReply({ status: res.status, body }, { token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID })
      } catch (err) {
        ok = false
        detail = `${(err as Error).message} ${String((err as { cause?: { code?: string } }).cause?.code ?? '')}`
      }
      const ended = performance.now()
      deliveries.push({ started, ended, ok, detail })
      if (ok) {
        latencies.push(ended - started)
        answeredOpenids.add(openid)
        unanswered.delete(openid)
        return
      }
      if (attempt < 3) {
        await new Promise((resolve) => setTimeout(resolve, retryAfterMs))
        return deliver(openid, request, attempt + 1) // WeChat retries the same request
      }
    }

    const pending = new Set<Promise<void>>()
    const interval = 1000 / options.ratePerSec
    const total = Math.floor((options.durationMs / 1000) * options.ratePerSec)
    let killing: Promise<void> | undefined
    for (let i = 0; i < total; i++) {
      const due = t0 + i * interval
      const wait = due - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      if (options.killAtMs !== undefined && killAt === undefined && performance.now() - t0 >= options.killAtMs) {
        killAt = performance.now()
        const victim = server
        say(`kill -9 at ${Math.round(killAt - t0)} ms (pid ${victim.child.pid})`)
        victim.child.kill('SIGKILL')
        killing = victim.exited.then(async () => {
          server = await startServerProcess(env)
          readyAt = performance.now()
          say(`restarted, listening again after ${Math.round(readyAt - killAt!)} ms`)
        })
      }
      if (inFlight >= maxInFlight) {
        skipped++
        continue
      }
      const kind = KINDS[i % KINDS.length]!
      const mode: EncryptionMode = i % 3 === 0 ? 'safe' : 'plain'
      const openid = `oSoak${i.toString(36)}x${Math.random().toString(36).slice(2, 6)}`
      const msgId = nextMsgId()
      // job events are keyed by their MsgID: each needs its own, or it is a retry of another
      const fields = kind === 'text' ? { Content: `soak ${i}` } : kind.endsWith('JOBFINISH') ? { MsgID: BigInt(msgId) } : {}
      const xml = sampleXml(kind, fields, { openid, msgId })
      const request = signedRequest({ token: TOKEN, xml, mode, appId: APP_ID, encodingAESKey: AES_KEY })
      messages++
      unanswered.add(openid)
      inFlight++
      const work = deliver(openid, request, 1).finally(() => {
        inFlight--
        pending.delete(work)
      })
      pending.add(work)
      if (i > 0 && i % Math.max(1, Math.round(options.ratePerSec * 10)) === 0) say(`${Math.round((performance.now() - t0) / 1000)} s: ${messages} messages, ${answeredOpenids.size} answered, ${inFlight} in flight`)
    }
    await killing
    // bounded: every delivery has a 5 s timeout and at most 3 attempts
    await Promise.all(pending)

    const windowEnd = readyAt === undefined ? undefined : readyAt + 250
    const overlapsKill = (d: Delivery) => killAt !== undefined && windowEnd !== undefined && d.ended >= killAt && d.started <= windowEnd
    const failed = deliveries.filter((d) => !d.ok)
    const outside = failed.filter((d) => !overlapsKill(d)).map((d) => `${Math.round(d.started - t0)} ms: ${d.detail}`)

    // the message log, read after a graceful stop (SIGTERM drains the last outcomes)
    const last = server
    last.child.kill('SIGTERM')
    await last.exited
    server = undefined
    const records = await openRecords(databaseUrl)
    const logged = new Set<string>()
    try {
      for (let afterId = 0; ; ) {
        const page = await records.messages.recent({ afterId, limit: 1000 })
        for (const row of page) logged.add(row.openid)
        if (page.length < 1000) break
        afterId = page.at(-1)!.id
      }
    } finally {
      await records.close()
    }
    const rowsLost = [...answeredOpenids].filter((openid) => !logged.has(openid))
    latencies.sort((a, b) => a - b)
    const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 10) / 10
    return {
      messages,
      deliveries: deliveries.length,
      answered200: answeredOpenids.size,
      failuresInKillWindow: failed.length - outside.length,
      failuresOutsideKillWindow: outside,
      unanswered: unanswered.size,
      rowsLost,
      killWindowMs: killAt === undefined || windowEnd === undefined ? undefined : Math.round(windowEnd - killAt),
      skippedForBackpressure: skipped,
      p50Ms: pct(0.5),
      p99Ms: pct(0.99),
      kinds: new Set(KINDS).size,
    }
  } finally {
    await server?.stop()
    if (options.databaseUrl === undefined) rmSync(dir, { recursive: true, force: true })
  }
}
