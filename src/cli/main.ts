/**
 * The `wxmp` command: serve, simulate, and the operations commands. Configuration comes from
 * the same environment variables (and .env) as the server.
 */
import { WxmpError, isWxmpError } from '../errors.js'
import { loadConfig, type WxmpConfig } from '../server/config.js'
import { VERSION } from '../version.js'

// Each command module is imported only when its command runs (or for the help text): `wxmp
// serve` then never loads the simulator, the fake WeChat server or the API commands.
const commands = {
  serve: () => import('./commands/serve.js'),
  simulate: () => import('./commands/simulate.js'),
  api: () => import('./commands/api.js'),
  fakeWechat: () => import('./commands/fake-wechat.js'),
  db: () => import('./commands/db.js'),
  console: () => import('./commands/console.js'),
}

async function usage(): Promise<string> {
  const [{ SERVE_USAGE }, { SIMULATE_USAGE }, { API_USAGE }, { FAKE_WECHAT_USAGE }, { DB_USAGE }, { CONSOLE_USAGE }] = await Promise.all([
    commands.serve(),
    commands.simulate(),
    commands.api(),
    commands.fakeWechat(),
    commands.db(),
    commands.console(),
  ])
  return `wxmp ${VERSION} — WeChat Official Account webhook server and tools

Usage: wxmp <command> [options]

  serve                 start the webhook server (npm start)
${SERVE_USAGE.split('\n').slice(1).map((l) => '      ' + l.trim()).join('\n')}
${indent(SIMULATE_USAGE.split('\n')[0]!)}
      play WeChat against the server (signing, encryption, 5 s timeout, 3 attempts); wxmp simulate --help
${indent(API_USAGE)}
${indent(FAKE_WECHAT_USAGE)}
${indent(DB_USAGE)}
${indent(CONSOLE_USAGE)}
  help                  this text
  version               print the version

Configuration: environment variables or .env (see README): WECHAT_TOKEN, WECHAT_APPID,
WECHAT_APPSECRET, WECHAT_AES_KEY, WECHAT_API_BASE, PORT, WECHAT_PATH, DATABASE_URL, REDIS_URL …`
}

type Print = (line: string) => void

function indent(usage: string): string {
  return usage
    .split('\n')
    .map((l) => (l.startsWith('wxmp ') ? '  ' + l.slice(5) : '      ' + l.trim()))
    .join('\n')
}

export async function main(argv: string[], print: Print = (l) => process.stdout.write(l + '\n'), printErr: Print = (l) => process.stderr.write(l + '\n')): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    print(await usage())
    return command === undefined ? 2 : 0
  }
  if (command === 'version' || command === '--version' || command === '-v') {
    print(VERSION)
    return 0
  }
  let config: WxmpConfig
  try {
    config = loadConfig(process.env)
  } catch (err) {
    printErr(`wxmp: configuration error: ${(err as Error).message}`)
    return 78 // EX_CONFIG
  }
  try {
    switch (command) {
      case 'serve': {
        const { runServeCommand } = await commands.serve()
        const { server } = await runServeCommand(rest, config, printErr)
        installShutdown(server.close, printErr)
        return await new Promise<number>(() => {}) // runs until a signal
      }
      case 'token':
        return await (await commands.api()).runTokenCommand(rest, { config, print, printErr })
      case 'menu':
        return await (await commands.api()).runMenuCommand(rest, { config, print, printErr })
      case 'send':
        return await (await commands.api()).runSendCommand(rest, { config, print, printErr })
      case 'user':
        return await (await commands.api()).runUserCommand(rest, { config, print, printErr })
      case 'fake-wechat': {
        const stop = new AbortController()
        process.once('SIGINT', () => stop.abort())
        process.once('SIGTERM', () => stop.abort())
        const { runFakeWechatCommand } = await commands.fakeWechat()
        return await runFakeWechatCommand(rest, print, { signal: stop.signal })
      }
      case 'simulate':
        return await (await commands.simulate()).runSimulateCommand(rest, config, print)
      case 'db':
        if (rest[0] !== 'migrate') {
          printErr(`wxmp: usage: wxmp db migrate`)
          return 2
        }
        return await (await commands.db()).runDbMigrate(config, print)
      case 'log':
        if (rest[0] !== 'tail') {
          printErr(`wxmp: usage: wxmp log tail [-n 20] [--once] …`)
          return 2
        }
        {
          const stop = new AbortController()
          process.once('SIGINT', () => stop.abort())
          process.once('SIGTERM', () => stop.abort())
          const { runLogTail } = await commands.db()
          return await runLogTail(rest.slice(1), config, print, { signal: stop.signal })
        }
      case 'followers':
        return await (await commands.db()).runFollowers(rest, config, print)
      case 'console':
        return await (await commands.console()).runConsoleCommand(rest, { print, printErr })
      default:
        printErr(`wxmp: unknown command ${JSON.stringify(command)}\n\n${await usage()}`)
        return 2
    }
  } catch (err) {
    if (isWxmpError(err)) {
      printErr(`wxmp: ${err.code}: ${err.message}`)
      return err.code === 'WX_ERR_CONFIG' ? 78 : 1
    }
    if ((err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      printErr(`wxmp: ${(err as Error).message}`)
      return 2
    }
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      printErr(`wxmp: the port is already in use: stop the other server or set PORT / --port`)
      return 1
    }
    throw err
  }
}

/** SIGTERM/SIGINT: stop accepting, finish running handlers (bounded), then exit. */
function installShutdown(close: (o?: { drainMs?: number }) => Promise<void>, printErr: Print): void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) process.exit(130) // a second signal: exit now
    stopping = true
    printErr(`wxmp: ${signal} received, finishing running handlers…`)
    close({ drainMs: 10_000 })
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        printErr(`wxmp: shutdown error: ${(err as Error).message}`)
        process.exit(1)
      })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

export { WxmpError }
