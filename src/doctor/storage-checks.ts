/**
 * The server's own dependencies: the shared store (Redis, or the database) answers, and the
 * records database answers with its schema up to date. Nothing is migrated or written here.
 */
import { existsSync } from 'node:fs'
import { openRecords } from '../records/open-records.js'
import { redactUrl } from '../storage/connection-url.js'
import { parseStorageUrl } from '../storage/storage-url.js'
import type { KeyValueStore } from '../storage/types.js'
import type { CheckResult } from './report.js'

export async function checkSharedStore(store: KeyValueStore, variable: 'REDIS_URL' | 'DATABASE_URL'): Promise<CheckResult> {
  const title = 'shared store'
  try {
    await store.ping()
    return { id: 'store', title, status: 'ok', detail: `${store.kind} (${variable}) answers: tokens, sessions${variable === 'REDIS_URL' ? ', dedup' : ''}` }
  } catch (err) {
    return {
      id: 'store',
      title,
      status: 'fail',
      detail: (err as Error).message,
      advice: variable === 'REDIS_URL' ? 'start Redis or fix REDIS_URL (host, port, password, db): the server refuses to start without it' : 'fix DATABASE_URL or start the database',
    }
  }
}

export async function checkDatabase(databaseUrl: string): Promise<CheckResult> {
  const title = 'database'
  const where = describe(databaseUrl)
  const target = parseStorageUrl(databaseUrl, 'DATABASE_URL', ['sqlite', 'postgres', 'memory'])
  if (target.kind === 'sqlite' && target.filename !== ':memory:' && !existsSync(target.filename)) {
    // opening would create an empty file: say what is missing instead
    return { id: 'database', title, status: 'fail', detail: `${where} does not exist`, advice: 'run doctor where the server runs (or set DATABASE_URL as it has it); `wxmp db migrate` creates the database' }
  }
  let records: Awaited<ReturnType<typeof openRecords>> | undefined
  try {
    records = await openRecords(databaseUrl, { migrate: false })
    const { current, pending } = await records.migrationStatus()
    if (pending.length > 0) {
      return {
        id: 'database',
        title,
        status: 'fail',
        detail: `${where} answers but ${pending.length} migration${pending.length === 1 ? ' is' : 's are'} not applied (schema at version ${current})`,
        advice: 'run `wxmp db migrate` (the server also migrates when it starts)',
      }
    }
    return { id: 'database', title, status: 'ok', detail: `${where} answers, schema up to date (version ${current})` }
  } catch (err) {
    return { id: 'database', title, status: 'fail', detail: `${where}: ${(err as Error).message}`, advice: 'fix DATABASE_URL or start the database (the message log and followers live there)' }
  } finally {
    await records?.close().catch(() => undefined)
  }
}

function describe(url: string): string {
  const target = parseStorageUrl(url, 'DATABASE_URL', ['sqlite', 'postgres', 'memory'])
  if (target.kind === 'sqlite') return `SQLite ${target.filename}`
  return target.kind === 'postgres' ? `PostgreSQL ${redactUrl(target.url)}` : 'in-memory SQLite'
}
