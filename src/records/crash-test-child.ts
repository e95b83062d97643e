/**
 * A child process for the records tests (not part of the public API). argv[2] is JSON:
 * - `{ mode: 'write', url, schema?, run }`: records messages one after another, printing
 *   "<n> <id>" after each message's inbound row AND outcome are committed, until killed
 *   (at most 100 000 messages);
 * - `{ mode: 'write-logged', url, run }`: the same through the appended message log the server
 *   uses on a SQLite file (LoggedRecorder), 20 messages in flight at a time, printing "<n> <ref>";
 * - `{ mode: 'migrate', url, schema? }`: prints "ready", waits for "go" on stdin, opens the
 *   records (which migrates) and prints the migration result as JSON.
 */
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { LoggedRecorder } from './logged-recorder.js'
import { openRecords } from './open-records.js'
import type { SqliteDatabase } from './sql-database.js'

interface Task {
  mode: 'write' | 'write-logged' | 'migrate'
  url: string
  schema?: string
  run?: string
}

/** What message n looks like, so the parent can check every byte it reads back. */
export function crashTestMessage(run: string, n: number) {
  const content = `消息 ${n} <&]]> ${'x'.repeat(n % 700)}`
  return {
    inbound: {
      appId: 'wxcrash',
      msgKey: `crash:${run}:${n}`,
      openid: `o${n % 7}`,
      msgType: 'text',
      msgId: String(20_000_000_000_000_000n + BigInt(n)),
      createTime: 1_700_000_000 + n,
      rawXml: `<xml><Content><![CDATA[${content.replaceAll(']]>', ']]]]><![CDATA[>')}]]></Content><N>${n}</N></xml>`,
      receivedAt: 1_700_000_000_000 + n,
      encrypted: n % 2 === 0,
    },
    outcome: { replyXml: `<xml><Reply>${n}</Reply></xml>`, replyVia: 'passive' as const, replyStatus: 'sent' as const, latencyMs: n % 50 },
  }
}

// The tests import crashTestMessage from here; only a spawned child runs the task.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const task = JSON.parse(process.argv[2] ?? '{}') as Task
  const giveUp = setTimeout(() => process.exit(3), 60_000)
  const options = task.schema === undefined ? {} : { schema: task.schema }
  if (task.mode === 'migrate') {
    process.stdout.write('ready\n')
    const lines = createInterface({ input: process.stdin })
    for await (const line of lines) if (line.trim() === 'go') break
    lines.close()
    const records = await openRecords(task.url, options)
    process.stdout.write(JSON.stringify(records.migration) + '\n')
    await records.close()
  } else if (task.mode === 'write-logged') {
    const records = await openRecords(task.url, options)
    const file = (records.db as SqliteDatabase).filename
    const log = await LoggedRecorder.open(records.messages, records.db as SqliteDatabase, { dir: `${file}-log` })
    for (let n = 0; n < 100_000; n += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, k) => {
          const { inbound, outcome } = crashTestMessage(task.run ?? 'run', n + k)
          const ref = await log.recordInbound({ ...inbound, event: undefined })
          await log.recordOutcome(ref, { ...outcome, error: undefined })
          process.stdout.write(`${n + k} ${ref}\n`)
        }),
      )
    }
    await log.close()
    await records.close()
  } else {
    const records = await openRecords(task.url, options)
    for (let n = 0; n < 100_000; n++) {
      const { inbound, outcome } = crashTestMessage(task.run ?? 'run', n)
      const id = await records.messages.recordInbound(inbound)
      await records.messages.recordOutcome(id, outcome)
      process.stdout.write(`${n} ${id}\n`)
    }
    await records.close()
  }
  clearTimeout(giveUp)
}
