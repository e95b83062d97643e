/**
 * Timing of the refusals behind a valid msg_signature, by cause: N signed ciphertexts of each
 * kind (bad pad, bad length field, other AppID, broken XML inside), interleaved, sent one at a
 * time; prints each kind's answer and median/p90 latency seen by the client.
 *
 *   node --import tsx scripts/security/oracle-timing.ts 300
 */
import { createCipheriv, randomInt } from 'node:crypto'
import { decodeAesKey } from '../../src/pipeline/crypto.js'
import { sha1Sorted } from '../../src/pipeline/signature.js'
import { sampleXml } from '../../src/testing/samples.js'
import { AES_KEY, APP_ID, TOKEN, startFiguresServer } from './common.js'

const rounds = Number(process.argv[2] ?? 300)
const key = decodeAesKey(AES_KEY)
function seal(msgLen: number, xml: string, tail: string, padByte?: number): string {
  const plain = Buffer.concat([Buffer.alloc(16, 9), Buffer.alloc(4), Buffer.from(xml + tail)])
  plain.writeUInt32BE(msgLen, 16)
  const pad = 32 - (plain.length % 32)
  return createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false).update(Buffer.concat([plain, Buffer.alloc(pad, padByte ?? pad)])).toString('base64')
}
const good = sampleXml('text', { Content: 'timing' })
const kinds: Record<string, string> = {
  padding: seal(Buffer.byteLength(good), good, APP_ID, 0),
  'length field': seal(0x7fffffff, good, APP_ID),
  'other AppID': seal(Buffer.byteLength(good), good, 'wx0000000000000000'),
  'XML inside': seal(12, '<xml><ToUser', APP_ID),
}
const server = await startFiguresServer()
try {
  const samples = new Map<string, number[]>()
  const answers = new Map<string, Set<string>>()
  for (let i = 0; i < rounds; i++) {
    for (const [kind, encrypt] of Object.entries(kinds)) {
      const timestamp = String(Math.floor(Date.now() / 1000))
      const nonce = String(randomInt(1e8, 2e9))
      const query = new URLSearchParams({ signature: sha1Sorted([TOKEN, timestamp, nonce]), timestamp, nonce, encrypt_type: 'aes', msg_signature: sha1Sorted([TOKEN, timestamp, nonce, encrypt]) })
      const started = process.hrtime.bigint()
      const res = await fetch(`${server.url}?${query}`, { method: 'POST', body: `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>` })
      const text = (await res.text()).trim()
      const micros = Number(process.hrtime.bigint() - started) / 1000
      if (i >= 20) samples.set(kind, [...(samples.get(kind) ?? []), micros]) // the first rounds warm up
      answers.set(kind, (answers.get(kind) ?? new Set()).add(`${res.status} ${text}`))
    }
  }
  for (const [kind, list] of samples) {
    list.sort((a, b) => a - b)
    console.log(`${kind.padEnd(13)} answer ${[...answers.get(kind)!].join(', ')}; median ${list[Math.floor(list.length / 2)]!.toFixed(0)} µs, p90 ${list[Math.floor(list.length * 0.9)]!.toFixed(0)} µs`)
  }
} finally {
  await server.stop()
}
