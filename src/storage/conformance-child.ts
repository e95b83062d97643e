/**
 * One contender in the cross-process `add` race of the conformance suite. It opens the store
 * named in argv[2] (JSON), prints "ready", waits for "go" on stdin, calls `add` on every key
 * at once and prints the keys it won as one JSON line.
 */
import { createInterface } from 'node:readline'
import { createStore, type CreateStoreOptions } from './create-store.js'
import { prefixed } from './prefixed.js'

interface ChildTask {
  url: string
  options?: CreateStoreOptions
  prefix?: string
  contender: string
  keys: string[]
}

const task = JSON.parse(process.argv[2] ?? '{}') as ChildTask
// Bounded: a parent that never says "go" (or died) does not leave this process behind.
const giveUp = setTimeout(() => process.exit(3), 60_000)
const base = createStore(task.url, task.options)
const store = task.prefix === undefined ? base : prefixed(base, task.prefix)
await store.ping()
process.stdout.write('ready\n')

const lines = createInterface({ input: process.stdin })
for await (const line of lines) if (line.trim() === 'go') break
lines.close()

const results = await Promise.all(task.keys.map((key) => store.add(key, task.contender, 60_000)))
const won = task.keys.filter((_, i) => results[i])
process.stdout.write(JSON.stringify({ won }) + '\n')
await store.close()
clearTimeout(giveUp)
