/**
 * For tests: `node --import tsx src/cli/run-cli-child.ts <args>` runs the CLI from the sources
 * exactly as bin/wxmp.js runs the built one (default print, exit code from main).
 */
import { main } from './main.js'

process.exitCode = await main(process.argv.slice(2))
