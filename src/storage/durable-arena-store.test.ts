import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DurableArenaStore } from './durable-arena-store.js'
import { releasePrefix } from './instance-files.js'

const root = mkdtempSync(join(tmpdir(), 'wxmp-journal-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDir = () => join(root, `j${++dirs}`)
const turn = () => new Promise((resolve) => setImmediate(resolve))
const journalBytes = (dir: string) => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)

describe('DurableArenaStore', () => {
  test('what the replay guard and the deduper wrote is there again after a restart; deletions hold too', async () => {
    const dir = freshDir()
    const first = await DurableArenaStore.open(dir)
    const answer = { state: 'done', response: { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: '<xml>你好</xml>' } }
    assert.equal(first.local.addLocal('replay:abc', 'digest-1', 600_000), true)
    assert.equal(first.local.addLocal('dedup:m:1', { state: 'pending', since: 1, owner: 'x' }, 300_000), true)
    first.local.setLocal('dedup:m:1', answer, 300_000) // written over the claim in the same turn
    first.local.addLocal('dedup:m:2', { state: 'pending', since: 1, owner: 'x' }, 300_000)
    await turn()
    first.local.deleteLocalIf('dedup:m:2', { state: 'pending', since: 1, owner: 'x' })
    await first.local.whenDurable?.()
    await first.close()

    const second = await DurableArenaStore.open(dir)
    assert.equal(second.local.getLocal('replay:abc'), 'digest-1')
    assert.deepEqual(second.local.getLocal('dedup:m:1'), answer)
    assert.equal(second.local.getLocal('dedup:m:2'), undefined)
    assert.equal(second.local.addLocal('replay:abc', 'digest-2', 600_000), false, 'a query seen before the restart is not new')
    await second.close()
  })

  test('whenDurable settles once the turn is written, and is undefined when nothing waits', async () => {
    const store = await DurableArenaStore.open(freshDir())
    assert.equal(store.local.whenDurable?.(), undefined)
    store.local.addLocal('replay:1', 'd', 600_000)
    const durable = store.local.whenDurable?.()
    assert.ok(durable instanceof Promise)
    await durable
    assert.equal(store.local.whenDurable?.(), undefined)
    await store.close()
  })

  test('the journal of a process that died is taken over by the next start, and deleted once copied', async () => {
    const dir = freshDir()
    const crashed = await DurableArenaStore.open(dir)
    crashed.local.addLocal('replay:left', 'behind', 600_000)
    await crashed.local.whenDurable?.()
    // as after kill -9: the files stay, under the name of a process that is gone
    for (const name of readdirSync(dir)) renameSync(join(dir, name), join(dir, name.replace(/^journal-\d+-/, 'journal-999999-')))
    const next = await DurableArenaStore.open(dir)
    assert.equal(next.local.getLocal('replay:left'), 'behind')
    assert.equal(readdirSync(dir).filter((n) => n.includes('999999')).length, 0, 'the dead process\'s files are gone')
    const other = await DurableArenaStore.open(dir) // a second live store in this process takes nothing from the first
    assert.equal(other.local.getLocal('replay:left'), undefined)
    await other.close()
    await next.close()
    await crashed.close()
  })

  test('a journal write that fails: answers do not wait for it and nothing changes while the process runs; a restart before it writes again vouches for nothing older', async () => {
    let now = 1_800_000_000_000
    const dir = freshDir()
    const first = await DurableArenaStore.open(dir, { now: () => now })
    assert.equal(first.wouldRemember('any', 1), true, 'a new journal has forgotten nothing')
    first.local.addLocal('replay:1', 'd', 600_000)
    await first.local.whenDurable?.()
    // the journal's file is gone from under it: every write from now on fails (as on a full disk)
    const log = (first as unknown as { log: { fd: number } }).log
    closeSync(log.fd)
    now += 1000
    first.local.addLocal('replay:2', 'd', 600_000)
    await first.local.whenDurable?.() // settles: the answer is not held back, nor failed
    assert.equal(first.local.getLocal('replay:2'), 'd', 'the arena still holds it')
    assert.equal(first.wouldRemember('replay:3', now - 5000), true, 'while it runs, the arena vouches as before')
    ;(first as unknown as { closed: boolean }).closed = true // as if its process had died here
    releasePrefix((first as unknown as { log: { prefix: string } }).log.prefix)
    now += 1000
    const restartedAt = now
    const second = await DurableArenaStore.open(dir, { now: () => now })
    assert.equal(second.local.getLocal('replay:1'), 'd', 'what was written before the failure is back')
    assert.equal(second.local.getLocal('replay:2'), undefined, 'what the failed write held is not')
    assert.equal(second.wouldRemember('replay:2', restartedAt - 1), false, 'so nothing signed before the restart is vouched for')
    assert.equal(second.wouldRemember('replay:4', restartedAt + 1), true, 'what comes after the restart is')
    await second.close()
  })

  test('a journal write that fails and then works again: the gap is on record, and the restart vouches for what came after it', async () => {
    let now = 1_800_000_000_000
    const dir = freshDir()
    const first = await DurableArenaStore.open(dir, { now: () => now })
    const log = (first as unknown as { log: { fd: number; path(n: number): string; segment: number } }).log
    closeSync(log.fd)
    now += 1000
    const failedAt = now
    first.local.addLocal('replay:lost', 'd', 600_000)
    await first.local.whenDurable?.()
    // the disk has room again
    log.fd = openSync(log.path(log.segment), 'a')
    now += 1000
    first.local.addLocal('replay:kept', 'd', 600_000)
    await first.local.whenDurable?.()
    ;(first as unknown as { closed: boolean }).closed = true // then the process dies
    releasePrefix((first as unknown as { log: { prefix: string } }).log.prefix)
    now += 1000
    const second = await DurableArenaStore.open(dir, { now: () => now })
    assert.equal(second.local.getLocal('replay:kept'), 'd')
    assert.equal(second.wouldRemember('replay:lost', failedAt), false, 'signed up to the failure: not vouched for')
    assert.equal(second.wouldRemember('replay:new', failedAt + 1), true, 'signed after it: vouched for (the journal holds everything since)')
    await second.close()
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('-0.log')), [], 'a clean close leaves no failure mark')
  })

  test('journal files last written before the machine booted: what they hold is back, and nothing else signed before the boot is vouched for', async () => {
    const dir = freshDir()
    const first = await DurableArenaStore.open(dir)
    first.local.addLocal('replay:before', 'd', 600_000)
    await first.close()
    const bootTime = Date.now() + 1000 // as if the machine rebooted after that write (a power cut may have lost later ones)
    const second = await DurableArenaStore.open(dir, { bootTime })
    assert.equal(second.local.getLocal('replay:before'), 'd')
    assert.equal(second.wouldRemember('replay:other', bootTime - 1), false)
    assert.equal(second.wouldRemember('replay:other', bootTime + 1), true)
    await second.close()
    const third = await DurableArenaStore.open(dir, { bootTime: 0 }) // no reboot since: a plain restart
    assert.equal(third.wouldRemember('replay:other', bootTime + 1), true)
    await third.close()
  })

  test('records that expired are not loaded', async () => {
    let now = 1_800_000_000_000
    const dir = freshDir()
    const first = await DurableArenaStore.open(dir, { now: () => now })
    first.local.addLocal('short', 'x', 1000)
    first.local.addLocal('long', 'y', 600_000)
    await first.close()
    now += 5000
    const second = await DurableArenaStore.open(dir, { now: () => now })
    assert.equal(second.local.getLocal('short'), undefined)
    assert.equal(second.local.getLocal('long'), 'y')
    await second.close()
  })

  test('under a flood the journal stays within two budgets, and what the ring let go moves the horizon past a restart', async () => {
    let now = 1_800_000_000_000
    const dir = freshDir()
    const budgetBytes = 64 * 1024
    const first = await DurableArenaStore.open(dir, { now: () => now, budgetBytes })
    for (let t = 0; t < 400; t++) {
      now += 3
      for (let i = 0; i < 20; i++) first.local.addLocal(`replay:${t}:${i}`, 'x'.repeat(60), 600_000)
      await turn()
    }
    assert.equal(first.local.getLocal('replay:0:0'), undefined, 'the small budget overwrote live records')
    assert.equal(first.wouldRemember('replay:0:0', 1_800_000_000_003), false)
    assert.ok(journalBytes(dir) <= 2.5 * budgetBytes, `journal holds ${journalBytes(dir)} bytes`)
    await first.close()
    const second = await DurableArenaStore.open(dir, { now: () => now, budgetBytes })
    assert.equal(second.wouldRemember('replay:0:0', 1_800_000_000_003), false, 'after the restart, by the horizon the journal kept')
    assert.equal(second.local.getLocal('replay:399:19'), 'x'.repeat(60), 'the newest records are back')
    await second.close()
  })
})
