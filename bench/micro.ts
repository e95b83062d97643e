/**
 * `npm run bench:micro`: the hot stages of one webhook request, each alone, so a regression
 * shows per stage (µs per operation, median of 7 batches after a warm-up), plus the whole
 * in-process pipeline (`bot.handle`, no HTTP) in plaintext and safe mode.
 *
 *   npm run bench:micro                # every stage
 *   npm run bench:micro -- parse sign  # stages whose name contains one of the words
 */
import { Bot } from '../src/bot.js'
import { parseMessage } from '../src/messages/parse.js'
import { MessageCrypto } from '../src/pipeline/crypto.js'
import { Deduper } from '../src/pipeline/dedupe.js'
import { openEnvelope, sealReply } from '../src/pipeline/envelope.js'
import { normaliseQuery, xmlResponse } from '../src/pipeline/request.js'
import { checkSignature } from '../src/pipeline/signature.js'
import { ReplayGuard, verifySignedQuery } from '../src/pipeline/verify.js'
import { serializeReply } from '../src/reply/serialize.js'
import { installEchoBot } from '../src/server/echo-bot.js'
import { MemoryStore } from '../src/storage/memory.js'
import { parseXml } from '../src/xml/parse.js'
import { createLogger } from '../src/logger.js'
import { pooledRandomBytes } from '../src/pipeline/crypto.js'
import { machineLine, describeMachine } from './machine.js'
import { ACCOUNT, buildPool, type PooledRequest } from './requests.js'
import { openDefaultPath, type DefaultPath } from './default-path.js'
import { rulesStages } from './rules-micro.js'

interface Stage {
  name: string
  /** Runs operation `i`; may return a promise. */
  run: (i: number) => unknown
  /** Operations one run() performs (requests in flight together); default 1. */
  width?: number
  close?: () => Promise<void>
  /** What the stage needs beside this process (a running Redis and PostgreSQL): without it, the stage is skipped. */
  needs?: string
}

const BATCHES = 7
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'))

/** Median µs per operation over BATCHES batches of `perBatch` operations, after a warm-up. */
async function measure(stage: Stage, perBatch: number): Promise<{ wall: number; cpu: number }> {
  let i = 0
  const width = stage.width ?? 1
  const batch = async (n: number) => {
    const cpu = process.cpuUsage()
    const start = process.hrtime.bigint()
    for (let k = 0; k < n; k += width) {
      const result = stage.run(i)
      i += width
      if (result instanceof Promise) await result
    }
    const used = process.cpuUsage(cpu)
    return { wall: Number(process.hrtime.bigint() - start) / 1000 / n, cpu: (used.user + used.system) / n }
  }
  await batch(perBatch)
  const times: Array<{ wall: number; cpu: number }> = []
  for (let b = 0; b < BATCHES; b++) times.push(await batch(perBatch))
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  return { wall: median(times.map((t) => t.wall)), cpu: median(times.map((t) => t.cpu)) }
}

const PER_BATCH = 20_000
const TOTAL = PER_BATCH * (BATCHES + 1)

/** Requests as the load test sends them, split into what each stage takes. */
function requests(mode: 'plain' | 'aes'): Array<PooledRequest & { query: Record<string, string> }> {
  return buildPool(mode, TOTAL).map((r) => ({ ...r, query: normaliseQuery(new URLSearchParams(r.path.slice(r.path.indexOf('?') + 1))) }))
}

const plain = requests('plain')
const aes = requests('aes')
const crypto = new MessageCrypto({ token: ACCOUNT.token, encodingAESKey: ACCOUNT.encodingAESKey, appId: ACCOUNT.appId })
const decrypted = aes.map((r) => openEnvelope(r.query, r.body, crypto, true).xml)
const messages = plain.map((r) => parseMessage(r.body))
const replyXml = serializeReply({ type: 'text', content: '你好 wxmp 1' }, { toUser: 'oBench_0001_wxmpLoadUsers', fromUser: ACCOUNT.original, createTime: 1_764_000_000, inReplyTo: 'text' })
const verifyOptions = { token: ACCOUNT.token, timestampToleranceSec: 300, now: Date.now }
const silent = createLogger({ level: 'silent' })
/**
 * Every pooled request carries the timestamp of the pool's making, so a store that evicts (the
 * default bound is 50 000 entries) would stop vouching for them all and the replay guard would
 * refuse the rest, as it must: a store here holds every request of a stage.
 */
const roomyStore = () => new MemoryStore({ maxEntries: TOTAL * 2 })

function echoBot(encodingAESKey?: string): Bot {
  const bot = new Bot({ token: ACCOUNT.token, appId: ACCOUNT.appId, logger: silent, store: roomyStore(), ...(encodingAESKey === undefined ? {} : { encodingAESKey, requireEncryption: true }) })
  installEchoBot(bot)
  return bot
}
const plainBot = echoBot()
const aesBot = echoBot(ACCOUNT.encodingAESKey)
const at = <T>(list: T[], i: number): T => list[i % list.length]!

const stages: Stage[] = [
  { name: 'signature: sha1 of sorted token/timestamp/nonce, constant-time compare', run: (i) => at(plain, i).query.signature !== undefined && checkSignature(ACCOUNT.token, at(plain, i).query.timestamp!, at(plain, i).query.nonce!, at(plain, i).query.signature) },
  { name: 'verify: signature + timestamp window', run: (i) => verifySignedQuery(at(plain, i).query, verifyOptions) },
  { name: 'query: URLSearchParams → normalised query', run: (i) => normaliseQuery(new URLSearchParams(at(plain, i).path.slice(8))) },
  (() => {
    const guard = new ReplayGuard(roomyStore(), 600_000)
    return { name: 'replay guard: body digest + atomic add (memory store)', run: (i: number) => guard.check(verifySignedQuery(at(plain, i).query, { ...verifyOptions, timestampToleranceSec: 0 }), at(plain, i).body) }
  })(),
  { name: 'decrypt: msg_signature + AES-256-CBC + checks (safe mode envelope)', run: (i) => openEnvelope(at(aes, i).query, at(aes, i).body, crypto, true) },
  { name: 'parse XML: fast scanner (saxes for anything else) → element tree', run: (i) => parseXml(at(plain, i).body) },
  { name: 'parse message: XML → typed message', run: (i) => parseMessage(at(decrypted, i)) },
  (() => {
    const deduper = new Deduper(new MemoryStore())
    const response = xmlResponse(replyXml)
    return { name: 'dedupe: claim + store the answer (memory store)', run: (i: number) => deduper.run(`m:${at(messages, i).MsgType}:${i}`, 4500, async () => response) }
  })(),
  { name: 'serialize: text reply → XML', run: (i) => serializeReply({ type: 'text', content: `你好 wxmp ${i}` }, { toUser: 'oBench_0001_wxmpLoadUsers', fromUser: ACCOUNT.original, createTime: 1_764_000_000, inReplyTo: 'text' }) },
  { name: 'encrypt: reply → Encrypt + MsgSignature envelope', run: () => sealReply(replyXml, crypto, Date.now(), pooledRandomBytes, ACCOUNT.appId) },
  { name: 'pipeline plaintext: bot.handle, echo bot, memory store (no HTTP)', run: (i) => plainBot.handle({ method: 'POST', query: at(plain, i).query, body: Buffer.from(at(plain, i).body) }) },
  { name: 'pipeline safe mode: bot.handle, echo bot, memory store (no HTTP)', run: (i) => aesBot.handle({ method: 'POST', query: at(aes, i).query, body: Buffer.from(at(aes, i).body) }) },
  defaultPathStage('plain', plain),
  defaultPathStage('aes', aes),
  defaultPathStage('plain', plain, 'fleet'),
]

/**
 * The whole pipeline as `npm start` wires it (SQLite message log, spool, stores), 50 requests in
 * flight at once as under load, so the group commit and the per-turn writes behave as they do
 * in the server. Opened on first use (a SQLite file in a temporary folder).
 */
function defaultPathStage(mode: 'plain' | 'aes', list: Array<PooledRequest & { query: Record<string, string> }>, storage: 'default' | 'fleet' = 'default'): Stage {
  const width = 50
  let path: Promise<DefaultPath> | undefined
  const wiring = storage === 'fleet' ? 'Redis + PostgreSQL message log as the wxmp-redis-pg target wires them' : 'SQLite message log + stores as npm start wires them'
  return {
    name: `${storage === 'fleet' ? 'fleet path' : 'default path'} ${mode === 'aes' ? 'safe mode' : 'plaintext'}: bot.handle, echo bot, ${wiring}, ${width} in flight (no HTTP)`,
    width,
    run: async (i) => {
      path ??= openDefaultPath(mode, storage)
      const { bot } = await path
      const handled: Promise<unknown>[] = []
      for (let k = 0; k < width; k++) handled.push(bot.handle({ method: 'POST', query: at(list, i + k).query, body: Buffer.from(at(list, i + k).body) }))
      await Promise.all(handled)
    },
    close: async () => (path === undefined ? undefined : (await path).close()),
    ...(storage === 'fleet' ? { needs: 'Redis at 127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432' } : {}),
  }
}

// replies without code (bench/rules-micro.ts): 5 000 keyword rules
stages.push(...rulesStages(plain))

console.log(`wxmp micro-benchmarks: ${machineLine(describeMachine())}`)
console.log(`µs per operation (wall clock, then the process's CPU time: steadier on a busy machine), median of ${BATCHES} batches of ${PER_BATCH}\n`)
for (const stage of stages) {
  if (filters.length > 0 && !filters.some((f) => stage.name.includes(f))) continue
  let timing: { wall: number; cpu: number }
  try {
    timing = await measure(stage, PER_BATCH)
  } catch (err) {
    if (stage.needs === undefined) throw err
    console.log(`skipped (needs ${stage.needs}: ${err instanceof Error ? err.message : String(err)})  ${stage.name}`)
    continue
  }
  console.log(`${timing.wall.toFixed(2).padStart(8)} µs  ${timing.cpu.toFixed(2).padStart(8)} µs CPU  ${stage.name}`)
  await stage.close?.()
}
