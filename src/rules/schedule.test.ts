import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CompiledSchedule, localTime, parseHHMM } from './schedule.js'

test('HH:MM parses 00:00–23:59 and 24:00; anything else is refused', () => {
  assert.deepEqual(['00:00', '09:30', '23:59', '24:00'].map(parseHHMM), [0, 570, 1439, 1440])
  for (const bad of ['9:00', '24:01', '12:60', '1200', ' 09:00']) assert.equal(parseHHMM(bad), undefined, bad)
})

test('windows in Shanghai time: working days, a window past midnight, the end of the day', () => {
  const at = (iso: string) => Date.parse(iso)
  const work = new CompiledSchedule({ windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' }] })
  assert.equal(work.isOpen(at('2026-03-02T09:00+08:00')), true, 'Monday 09:00, inclusive')
  assert.equal(work.isOpen(at('2026-03-02T18:00+08:00')), false, '18:00 is exclusive')
  assert.equal(work.isOpen(at('2026-03-02T01:30Z')), true, '01:30 UTC is 09:30 in Shanghai')
  assert.equal(work.isOpen(at('2026-03-07T10:00+08:00')), false, 'Saturday')
  const night = new CompiledSchedule({ windows: [{ days: ['fri'], from: '22:00', to: '06:00' }] })
  assert.equal(night.isOpen(at('2026-03-06T23:00+08:00')), true, 'Friday night')
  assert.equal(night.isOpen(at('2026-03-07T05:59+08:00')), true, 'Saturday morning belongs to Friday night')
  assert.equal(night.isOpen(at('2026-03-07T23:00+08:00')), false, 'Saturday night is not Friday')
  const evening = new CompiledSchedule({ windows: [{ from: '20:00', to: '24:00' }] })
  assert.equal(evening.isOpen(at('2026-03-07T23:59+08:00')), true)
  assert.equal(evening.isOpen(at('2026-03-08T00:00+08:00')), false)
})

test('other zones, daylight saving included', () => {
  assert.deepEqual(localTime(Date.parse('2026-07-01T12:00Z'), 'America/New_York'), { day: 3, minute: 8 * 60 })
  assert.deepEqual(localTime(Date.parse('2026-01-01T12:00Z'), 'America/New_York'), { day: 4, minute: 7 * 60 })
  const ny = new CompiledSchedule({ timezone: 'America/New_York', windows: [{ from: '08:00', to: '09:00' }] })
  assert.equal(ny.isOpen(Date.parse('2026-07-01T12:30Z')), true)
  assert.equal(ny.isOpen(Date.parse('2026-01-01T12:30Z')), false)
})
