import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { POSTGRES_URL, serviceAvailable } from '../../test/support/services.js'
import { isWxmpError } from '../errors.js'
import { LiveRules } from './live.js'
import { openRuleStore, type OpenRuleStoreOptions, type RuleStore } from './store.js'
import { RuleValidationError } from './validate.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-rules-'))
const postgresUp = await serviceAvailable('postgres')
const schemas: string[] = []
after(async () => {
  rmSync(dir, { recursive: true, force: true })
  if (!postgresUp || schemas.length === 0) return
  const client = new pg.Client(POSTGRES_URL)
  await client.connect()
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
})

let counter = 0
const backends = [
  { name: 'sqlite', skip: false as string | false, fresh: (): [string, OpenRuleStoreOptions] => [`sqlite:${join(dir, `r${++counter}.db`)}`, {}] },
  {
    name: 'postgres',
    skip: !postgresUp && 'PostgreSQL is not reachable',
    fresh: (): [string, OpenRuleStoreOptions] => {
      const schema = `wxmp_rules_${randomBytes(4).toString('hex')}`
      schemas.push(schema)
      return [POSTGRES_URL, { schema }]
    },
  },
]

const text = (content: string) => ({ type: 'text' as const, content })
const keyword = (...exact: string[]) => ({ type: 'keyword' as const, exact })

for (const backend of backends) {
  describe(`RuleStore on ${backend.name}`, { skip: backend.skip }, () => {
    async function open(extra: OpenRuleStoreOptions = {}): Promise<RuleStore> {
      const [url, options] = backend.fresh()
      let ids = 0
      return openRuleStore(url, { appId: 'wxRulesTest', newId: () => `gen-${++ids}`, ...options, ...extra })
    }

    test('create, get, list best first, update, enable/disable, delete; the version moves on each change', async () => {
      const store = await open()
      try {
        assert.equal(await store.version(), 0)
        const a = await store.create({ id: 'hours', trigger: keyword('营业时间'), reply: text('9–18') })
        const b = await store.create({ trigger: keyword('地址'), reply: text('北京') })
        assert.equal(b.id, 'gen-1')
        assert.ok(b.priority > a.priority, 'a new rule without a priority ranks above the others')
        assert.deepEqual((await store.list()).map((r) => r.id), ['gen-1', 'hours'])
        assert.equal(await store.version(), 2)
        const updated = await store.update('hours', { reply: text('9:00–18:00'), schedule: { windows: [{ from: '09:00', to: '18:00' }] } })
        assert.equal(updated.createdAt, a.createdAt)
        assert.deepEqual(updated.reply, text('9:00–18:00'))
        assert.equal((await store.update('hours', { schedule: null })).schedule, undefined)
        assert.equal((await store.setEnabled('hours', false)).enabled, false)
        assert.equal((await store.get('hours'))?.enabled, false)
        assert.equal(await store.delete('hours'), true)
        assert.equal(await store.delete('hours'), false)
        assert.equal(await store.version(), 6)
        await assert.rejects(store.update('nope', { enabled: true }), (err: unknown) => isWxmpError(err, 'WX_ERR_RULE_INVALID') && /no rule with id "nope"/.test((err as Error).message))
      } finally {
        await store.close()
      }
    })

    test('a duplicate priority or id is refused naming both rules, and nothing changes', async () => {
      const store = await open()
      try {
        await store.create({ id: 'a', priority: 100, trigger: keyword('a'), reply: text('a') })
        const version = await store.version()
        await assert.rejects(store.create({ id: 'b', priority: 100, trigger: keyword('b'), reply: text('b') }), (err: unknown) => err instanceof RuleValidationError && /priority of stored rule "a"/.test(err.message))
        await assert.rejects(store.create({ id: 'a', trigger: keyword('b'), reply: text('b') }), /exists already/)
        await assert.rejects(store.update('a', { trigger: { type: 'keyword', exact: [''] } }), /trigger\.exact\[0\]: must not be empty/)
        assert.equal(await store.version(), version)
        assert.deepEqual((await store.list()).map((r) => r.id), ['a'])
      } finally {
        await store.close()
      }
    })

    test('import is all or nothing, merge keeps other rules, replace removes them, a repeat changes nothing', async () => {
      const store = await open()
      try {
        await store.create({ id: 'mine', priority: 5, trigger: keyword('mine'), reply: text('mine') })
        const rules = [
          { id: 'x', trigger: keyword('x'), reply: text('x') },
          { id: 'y', trigger: { type: 'follow' }, reply: text('welcome') },
        ]
        const bad = [...rules, { id: 'z', trigger: { type: 'keyword', contains: [''] }, reply: { type: 'gif' } }]
        await assert.rejects(store.import(bad), (err: unknown) => err instanceof RuleValidationError && err.problems.length === 2 && err.problems.every((p) => p.rule === '"z"'))
        assert.deepEqual((await store.list()).map((r) => r.id), ['mine'], 'nothing stored from a refused file')
        const dry = await store.import(rules, { dryRun: true })
        assert.deepEqual(dry.created, ['x', 'y'])
        assert.deepEqual((await store.list()).map((r) => r.id), ['mine'], 'a dry run stores nothing')
        const first = await store.import(rules)
        assert.deepEqual([first.created, first.changed], [['x', 'y'], true])
        assert.deepEqual((await store.list()).map((r) => r.id), ['x', 'y', 'mine'], 'rules without priorities rank above, in list order')
        const version = await store.version()
        const again = await store.import(rules)
        assert.deepEqual([again.unchanged, again.changed], [['x', 'y'], false])
        assert.equal(await store.version(), version, 'an unchanged import does not move the version')
        const replaced = await store.import([rules[0]!], { mode: 'replace' })
        assert.deepEqual([replaced.removed.sort(), replaced.updated], [['mine', 'y'], ['x']], 'in replace mode the file alone sets the order')
        assert.deepEqual((await store.list()).map((r) => r.id), ['x'])
      } finally {
        await store.close()
      }
    })

    test('export then import gives back the same rules (JSON and YAML); a rules file is imported once per content', async () => {
      const store = await open()
      try {
        await store.import([
          { id: 'k', name: '关键词', priority: 30, trigger: { type: 'keyword', exact: ['a'], contains: ['b'] }, reply: { type: 'random', replies: [text('1'), text('2')] }, schedule: { timezone: 'Asia/Shanghai', windows: [{ days: ['mon'], from: '22:00', to: '06:00' }] }, cooldownSec: 60 },
          { id: 'd', enabled: false, priority: 10, trigger: { type: 'default' }, reply: text('收到 {text}') },
        ])
        const before = await store.list()
        for (const format of ['json', 'yaml'] as const) {
          const file = join(dir, `export-${counter}.${format}`)
          writeFileSync(file, await store.export(format))
          const other = await open()
          try {
            const first = await other.importFileOnce(file)
            assert.deepEqual([first.skipped, first.created.sort()], [false, ['d', 'k']])
            assert.deepEqual((await other.list()).map(({ createdAt, updatedAt, ...r }) => r), before.map(({ createdAt, updatedAt, ...r }) => r))
            const second = await other.importFileOnce(file)
            assert.equal(second.skipped, true, 'the same file content is not imported twice (operator edits survive restarts)')
          } finally {
            await other.close()
          }
        }
      } finally {
        await store.close()
      }
    })

    test('test(): which rule answers, its reply with placeholders, and the default', async () => {
      const store = await open()
      try {
        await store.import([
          { id: 'hi', trigger: { type: 'keyword', contains: ['你好'] }, reply: text('你好！你说：{text}') },
          { id: 'fallback', trigger: { type: 'default' }, reply: text('收到') },
          { id: 'menu', trigger: { type: 'click', key: 'K1' }, reply: text('点击 {key}') },
        ])
        const hi = await store.test({ text: '你好啊' })
        assert.deepEqual([hi.outcome, hi.rule?.id, hi.match, hi.replies], ['rule', 'hi', '你好', [{ type: 'text', content: '你好！你说：你好啊' }]])
        const other = await store.test({ text: 'xyz' })
        assert.deepEqual([other.outcome, other.rule?.id], ['default', 'fallback'])
        assert.deepEqual((await store.test({ click: 'K1' })).replies, [{ type: 'text', content: '点击 K1' }])
        assert.equal((await store.test({ follow: true })).outcome, 'none')
      } finally {
        await store.close()
      }
    })

    test('LiveRules follows a change made through another connection', async () => {
      const [url, options] = backend.fresh()
      const writer = await openRuleStore(url, { appId: 'wxLive', ...options })
      const reader = await openRuleStore(url, { appId: 'wxLive', ...options })
      const live = await LiveRules.start(reader, { pollMs: 60_000 })
      try {
        assert.equal(live.current.size, 0)
        await writer.create({ id: 'new', trigger: keyword('hi'), reply: text('hello') })
        assert.equal(await live.refresh(), true)
        assert.deepEqual(live.current.rules.map((r) => r.id), ['new'])
        assert.equal(await live.refresh(), false, 'nothing to reload when the version did not move')
        const other = await openRuleStore(url, { appId: 'wxOtherAccount', ...options })
        assert.deepEqual(await other.list(), [], 'rules are per account')
        await other.close()
      } finally {
        live.stop()
        await writer.close()
        await reader.close()
      }
    })
  })
}
