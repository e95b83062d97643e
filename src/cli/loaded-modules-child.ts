/**
 * For main.test.ts: runs `wxmp serve` (main() of ./main.ts) in this process with the
 * configuration from the environment and, once it listens, prints one JSON line naming every
 * module loaded so far — ES modules as seen by a resolve hook, CommonJS files from
 * require.cache (where the database drivers land, however they were loaded) — then exits.
 */
import { createRequire, register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'

// The hook runs on the loader thread and reports each resolved URL back over a port.
const HOOKS = `let port
export function initialize(data) { port = data.port }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  port.postMessage(result.url)
  return result
}`

const esm = new Set<string>()
const { port1, port2 } = new MessageChannel()
let lastSeen: ((url: string) => void) | undefined
port1.on('message', (url: string) => {
  esm.add(url)
  lastSeen?.(url)
})
register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] })

const { main } = await import('./main.js')
const outcome = await new Promise<string>((resolve) => {
  main(
    ['serve', '--host', '127.0.0.1', '--port', '0'],
    () => undefined,
    (line) => {
      if (line.includes('is listening')) resolve('listening')
      else if (line.startsWith('wxmp:')) resolve(line)
    },
  ).then(
    (code) => resolve(`main returned ${code}`),
    (err: unknown) => resolve(`main threw ${String(err)}`),
  )
})
if (outcome !== 'listening') {
  process.stderr.write(`${outcome}\n`)
  process.exit(1)
}

// Messages from the loader thread arrive in order: once a last, unique import is reported,
// every earlier one has been.
const sentinel = `data:text/javascript,export default ${Date.now()}`
const reported = new Promise<void>((resolve) => {
  lastSeen = (url) => {
    if (url === sentinel) resolve()
  }
})
await import(sentinel)
await reported
port1.close()

const cjs = Object.keys(createRequire(import.meta.url).cache)
process.stdout.write(JSON.stringify({ esm: [...esm].filter((url) => url !== sentinel), cjs }) + '\n')
process.exit(0)
