/**
 * The long soak: `npm run soak -- --duration 300 --rate 200 --kill-at 150`.
 * Runs the real server on loopback at a steady rate of mixed messages, kills it with SIGKILL
 * at --kill-at seconds (0: never) and restarts it, then checks every answer and the message
 * log. Prints progress and a JSON report; exits 1 when a non-200 came outside the kill window,
 * a message stayed unanswered, or an answered message has no message-log row.
 * Bounded: at most 3600 s and 2000 messages per second; it stops by itself.
 */
import { parseArgs } from 'node:util'
import { runSoak } from '../test/hardening/support/soak-run.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '300' },
    rate: { type: 'string', default: '200' },
    'kill-at': { type: 'string' },
    'database-url': { type: 'string' },
  },
})
const durationSec = Number(values.duration)
const rate = Number(values.rate)
const killAtSec = values['kill-at'] === undefined ? durationSec / 2 : Number(values['kill-at'])
if (!(durationSec > 0 && durationSec <= 3600) || !(rate > 0 && rate <= 2000) || !(killAtSec >= 0 && killAtSec < durationSec)) {
  console.error('usage: npm run soak -- [--duration 1..3600 s] [--rate 1..2000 /s] [--kill-at s, 0 = no kill] [--database-url URL]')
  process.exit(2)
}
console.log(`soak: ${durationSec} s at ${rate}/s${killAtSec > 0 ? `, kill -9 at ${killAtSec} s` : ''}`)
const report = await runSoak({
  durationMs: durationSec * 1000,
  ratePerSec: rate,
  ...(killAtSec > 0 ? { killAtMs: killAtSec * 1000 } : {}),
  ...(values['database-url'] === undefined ? {} : { databaseUrl: values['database-url'] }),
  progress: (line) => console.log(`soak: ${line}`),
})
console.log(JSON.stringify({ ...report, failuresOutsideKillWindow: report.failuresOutsideKillWindow.slice(0, 20), rowsLost: report.rowsLost.slice(0, 20) }, null, 2))
const ok = report.failuresOutsideKillWindow.length === 0 && report.unanswered === 0 && report.rowsLost.length === 0
console.log(ok ? 'soak: PASS' : 'soak: FAIL')
process.exit(ok ? 0 : 1)
