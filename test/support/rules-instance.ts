/**
 * One instance of a rules-only fleet for test/rules-fleet.test.ts: the real server from the
 * environment's configuration with no code handlers (like `wxmp serve --no-echo`). Prints
 * READY <url> once listening and RULES <version> each time it loads a new set of rules.
 */
import type { Logger } from '../../src/logger.js'
import { loadConfig } from '../../src/server/config.js'
import { startServer } from '../../src/server/app.js'

const logger: Logger = {
  debug: () => undefined,
  info: (obj, msg) => {
    if (msg === 'rules reloaded') process.stdout.write(`RULES ${String((obj as { version?: number }).version)}\n`)
  },
  warn: (obj, msg) => void process.stderr.write(`warn ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => void process.stderr.write(`error ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  child: () => logger,
}
const server = await startServer({ config: loadConfig(process.env, { dotenv: false }), logger, setup: () => undefined })
process.stdout.write(`READY ${server.http.url}\n`)
process.on('SIGTERM', () => {
  void server.close({ drainMs: 2000 }).then(() => process.exit(0))
})
