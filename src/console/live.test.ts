import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openRecords, type Records } from '../records/open-records.js'
import { Conversations } from './conversations.js'
import { LiveFeed } from './live.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-live-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** A response that keeps what was written; `onOpen` runs when the stream's head is written. */
function response(onOpen: () => void): ServerResponse & { text: string } {
  const res = Object.assign(new EventEmitter(), {
    text: '',
    destroyed: false,
    writeHead() {
      onOpen()
      return res
    },
    write(chunk: string) {
      res.text += chunk
      return true
    },
    end() {
      res.destroyed = true
      res.emit('close')
    },
  })
  return res as unknown as ServerResponse & { text: string }
}

/** A listener that left before its stream opened. */
function gone(): ServerResponse & { text: string } {
  const res = response(() => assert.fail('no stream for a listener that is gone'))
  ;(res as unknown as { destroyed: boolean }).destroyed = true
  return res
}

/** A feed on its own SQLite file (account wxLive), closed with it after `body`. */
async function withFeed(name: string, body: (feed: LiveFeed, records: Records) => Promise<void>): Promise<void> {
  const records = await openRecords(`sqlite:${join(dir, `${name}.db`)}`)
  const feed = new LiveFeed(new Conversations(records.db, 'wxLive'), { warn() {} }, { pollMs: 20 })
  try {
    await body(feed, records)
  } finally {
    feed.close()
    await records.close()
  }
}

/** Waits (bounded, 2 s) until the stream holds `text`. */
async function streamed(res: { text: string }, text: string): Promise<void> {
  for (let i = 0; i < 100 && !res.text.includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 20))
}

test('a row written as soon as the stream opens is sent: where the feed starts is read before it opens', async () => {
  await withFeed('live', async (feed, records) => {
    let written: Promise<unknown> | undefined
    // the page reads its conversation once the stream is open; a row may land right then
    const res = response(() => {
      written = records.db.run(
        'INSERT INTO wxmp_messages (app_id, msg_key, openid, msg_type, create_time, raw_xml, encrypted, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        ['wxLive', 'm:oLive:1', 'oLive', 'text', 1_700_000_000, '<xml><Content><![CDATA[刚到]]></Content></xml>', 0, Date.now()],
      )
    })
    await feed.add({ res, sessionId: 's1' })
    await written
    await streamed(res, 'event: message')
    assert.match(res.text, /event: message/, 'the row written when the stream opened reached the page')
    assert.match(res.text, /"openid":"oLive"/)
  })
})

test('a row written before the first listener, its outcome recorded after, reaches the page with that outcome', async () => {
  await withFeed('incomplete', async (feed, records) => {
    // the page may read this row before its outcome: the feed must watch it, though it is not new to the feed
    const id = await records.messages.recordInbound({ appId: 'wxLive', msgKey: 'm:oSlow:1', openid: 'oSlow', msgType: 'text', createTime: 1_700_000_000, rawXml: '<xml><Content><![CDATA[慢]]></Content></xml>', receivedAt: Date.now(), encrypted: false })
    const res = response(() => undefined)
    await feed.add({ res, sessionId: 's1' })
    await records.messages.recordOutcome(id, { replyVia: 'passive', replyXml: '<xml><Content><![CDATA[答]]></Content></xml>', latencyMs: 9 })
    await streamed(res, '"completed":true')
    assert.match(res.text, /event: message/)
    assert.match(res.text, /"completed":true/, 'the outcome recorded after the stream opened was sent')
  })
})

test('a listener gone before its stream opened leaves no feed running', async () => {
  await withFeed('gone', async (feed, records) => {
    await feed.add({ res: gone(), sessionId: 's1' })
    assert.equal(feed.listeners, 0)
    assert.equal((feed as unknown as { timer: unknown }).timer, undefined, 'no poll timer left behind')
  })
})

test('listeners that arrive together start the feed once, and one gone before its stream does not stop it for the others', async () => {
  let starts = 0
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const conversations = {
    maxId: async () => (starts++, await held, 0),
    awaitingNextMessage: async () => [],
    incompleteSince: async () => [],
  } as unknown as Conversations
  const feed = new LiveFeed(conversations, { warn() {} }, { pollMs: 60_000 })
  try {
    const live = response(() => undefined)
    const arrivals = [feed.add({ res: gone(), sessionId: 's1' }), feed.add({ res: live, sessionId: 's2' })]
    release()
    await Promise.all(arrivals)
    assert.equal(starts, 1, 'one start for both')
    assert.equal(feed.listeners, 1)
    assert.notEqual((feed as unknown as { timer: unknown }).timer, undefined, 'the feed runs for the listener that stayed')
    assert.match(live.text, /retry: 2000/)
  } finally {
    feed.close()
  }
})
