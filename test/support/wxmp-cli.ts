/**
 * `wxmp` from the sources, for tests that run the CLI as a child process (what bin/wxmp.js
 * does with dist/, without needing a build first).
 */
import { main } from '../../src/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
