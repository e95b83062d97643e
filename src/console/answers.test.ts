import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { WechatApi } from '../api/client.js'
import { WechatApiError } from '../api/errors.js'
import type { AnswerWay } from '../pipeline/late/next-message-answers.js'
import type { PendingReceipt } from '../pipeline/late/pending-answers.js'
import type { Reply } from '../reply/types.js'
import { openRecords } from '../records/open-records.js'
import { OperatorAnswers } from './answers.js'
import { Conversations } from './conversations.js'
import { ConsoleHttpError } from './http.js'

const T0 = 1_800_000_000_000
const TTL = 3600_000

async function setup(options: { way: AnswerWay; send?: (openid: string, reply: Reply) => Promise<void>; api?: boolean }) {
  const records = await openRecords('memory:')
  let clock = T0
  const conversations = new Conversations(records.db, 'wxA', TTL)
  const queued: Array<{ openid: string; reply: Reply; receipt: string }> = []
  const receipts = new Map<string, PendingReceipt>()
  let way = options.way
  const sent: Array<{ openid: string; reply: Reply }> = []
  const api = {
    customerService: {
      async sendReply(openid: string, reply: Reply) {
        await options.send?.(openid, reply)
        sent.push({ openid, reply })
      },
    },
  } as unknown as WechatApi
  const answers = new OperatorAnswers({
    conversations,
    nextMessage: {
      settings: { ttlMs: TTL, keyword: undefined },
      way: async () => way,
      learnedNoPermission: () => (way = { way: 'next-message', because: 'learned-48001' }),
      queue: async (to, reply, receipt) => {
        queued.push({ openid: to.openid, reply, receipt })
        return { expiresAt: clock + TTL, ahead: 0 }
      },
      receipts: async (names) => new Map([...receipts].filter(([k]) => names.includes(k))),
    },
    api: () => (options.api === false ? undefined : api),
    logger: { warn() {} },
    now: () => clock,
  })
  return { records, conversations, answers, queued, receipts, sent, tick: (ms: number) => (clock += ms), way: () => way }
}

test('customer service when the account may: sent at once and recorded as such', async () => {
  const s = await setup({ way: { way: 'customer-service' } })
  const { reply, failure } = await s.answers.answer('oUser1', 'alice', { msgType: 'text', text: '您好' })
  assert.equal(failure, undefined)
  assert.deepEqual([reply.via, reply.status, reply.expiresAt], ['customer-service', 'sent', undefined])
  assert.deepEqual(s.sent, [{ openid: 'oUser1', reply: { type: 'text', content: '您好' } }])
  assert.equal(s.queued.length, 0)
  await s.records.close()
})

test('48001 from customer service: the permission is learned and the answer waits for the next message instead', async () => {
  const s = await setup({ way: { way: 'customer-service' }, send: async () => Promise.reject(new WechatApiError({ errcode: 48001, errmsg: 'api unauthorized', path: '/cgi-bin/message/custom/send' })) })
  const { reply, failure } = await s.answers.answer('oUser1', 'alice', { msgType: 'text', text: '稍等' })
  assert.equal(failure, undefined)
  assert.deepEqual([reply.via, reply.status, reply.errcode, reply.expiresAt], ['next-message', 'pending', 48001, T0 + TTL])
  assert.deepEqual(s.queued, [{ openid: 'oUser1', reply: { type: 'text', content: '稍等' }, receipt: `console:${reply.id}` }])
  assert.deepEqual(s.way(), { way: 'next-message', because: 'learned-48001' })
  const [stored] = await s.conversations.replies('oUser1')
  assert.deepEqual([stored!.via, stored!.status], ['next-message', 'pending'])
  await s.records.close()
})

test('other refusals are recorded with their reason and reported', async () => {
  const s = await setup({ way: { way: 'customer-service' }, send: async () => Promise.reject(new WechatApiError({ errcode: 45015, errmsg: 'response out of time limit', path: '/cgi-bin/message/custom/send' })) })
  const { reply, failure } = await s.answers.answer('oUser1', 'alice', { msgType: 'text', text: 'late' })
  assert.ok(failure instanceof ConsoleHttpError)
  assert.deepEqual([reply.via, reply.status, reply.errcode], ['customer-service', 'out-of-window', 45015])
  assert.equal(s.queued.length, 0)
  await s.records.close()
})

test('without an API a text still waits for the next message; an image cannot (it needs an upload)', async () => {
  const s = await setup({ way: { way: 'next-message', because: 'no-api' }, api: false })
  const { reply } = await s.answers.answer('oUser2', 'alice', { msgType: 'text', text: 'hi' })
  assert.deepEqual([reply.via, reply.status, reply.errcode], ['next-message', 'pending', null])
  await assert.rejects(
    s.answers.answer('oUser2', 'alice', { msgType: 'image', upload: async () => 'media' }),
    (err: unknown) => err instanceof ConsoleHttpError && err.status === 409 && err.extra.reason === 'no-api',
  )
  await s.records.close()
})

test('settle: a delivered receipt makes an answer sent, an unfetched one past its time expired, the rest wait', async () => {
  const s = await setup({ way: { way: 'next-message', because: 'account-kind' } })
  const a = (await s.answers.answer('oUser3', 'alice', { msgType: 'text', text: 'a' })).reply
  const b = (await s.answers.answer('oUser3', 'alice', { msgType: 'text', text: 'b' })).reply
  const c = (await s.answers.answer('oUser4', 'bob', { msgType: 'text', text: 'c' })).reply
  assert.deepEqual(await s.answers.settle(), [])
  s.receipts.set(`console:${a.id}`, { status: 'delivered', at: T0 + 1000 })
  assert.deepEqual((await s.answers.settle(['oUser3'])).map((r) => [r.id, r.status]), [[a.id, 'sent']])
  s.tick(TTL + 1)
  const changed = await s.answers.settle()
  assert.deepEqual(changed.map((r) => [r.id, r.status]), [[b.id, 'expired'], [c.id, 'expired']])
  assert.deepEqual(await s.answers.settle(), [], 'settled once')
  assert.deepEqual((await s.conversations.replies('oUser3')).map((r) => [r.via, r.status]), [['next-message', 'sent'], ['next-message', 'expired']])
  await s.records.close()
})
