import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Readiness } from './readiness.js'

test('/readyz probes once per interval however often it is asked, and once at a time', async () => {
  let now = 0
  let probes = 0
  const readiness = new Readiness([{ name: 'sqlite', probe: async () => void probes++ }], { cacheMs: 1000, now: () => now })
  await Promise.all(Array.from({ length: 500 }, () => readiness.report()))
  assert.equal(probes, 1)
  now += 999
  await readiness.report()
  assert.equal(probes, 1)
  now += 1
  const report = await readiness.report()
  assert.equal(probes, 2)
  assert.deepEqual(report, { ok: true, body: { status: 'ready', checks: [{ store: 'sqlite', ok: true }] } })
})

test('an outage names the kind of dependency only; the error text goes to the log, once per outage', async () => {
  let now = 0
  let up = false
  const warned: Array<Record<string, unknown>> = []
  const infos: string[] = []
  const logger = { warn: (obj: object) => void warned.push(obj as Record<string, unknown>), info: (_obj: object, msg?: string) => void infos.push(msg ?? '') }
  const probe = async () => {
    if (!up) throw new Error('connect ECONNREFUSED 10.1.2.3:6380 (db wxmp_prod, user admin)')
  }
  const readiness = new Readiness([{ name: 'redis', probe }, { name: 'postgres (records)', probe: async () => undefined }], { cacheMs: 10, now: () => now, logger, extra: () => ({ storeFallback: true }) })
  for (let i = 0; i < 3; i++) {
    now += 20
    const report = await readiness.report()
    assert.equal(report.ok, false)
    const text = JSON.stringify(report.body)
    assert.deepEqual(report.body, { status: 'unavailable', checks: [{ store: 'redis', ok: false }, { store: 'postgres (records)', ok: true }], storeFallback: true })
    assert.ok(!/10\.1\.2\.3|6380|wxmp_prod|admin|ECONNREFUSED/.test(text), text)
  }
  assert.equal(warned.length, 1)
  assert.match(String(warned[0]?.err), /ECONNREFUSED 10\.1\.2\.3:6380/)
  up = true
  now += 20
  assert.equal((await readiness.report()).ok, true)
  assert.equal(infos.length, 1)
})

test('a probe that hangs counts as down after the timeout', async () => {
  const readiness = new Readiness([{ name: 'postgres', probe: () => new Promise(() => undefined) }], { timeoutMs: 20 })
  assert.equal((await readiness.report()).ok, false)
})
