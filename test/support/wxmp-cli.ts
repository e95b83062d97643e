/** The `wxmp` command from the sources (bin/wxmp.js runs the compiled one): for tests that need a real separate CLI process. */
import { main } from '../../src/cli/main.js'

process.exitCode = await main(process.argv.slice(2))
