/**
 * The `wxmp` command: serve, simulate, and the operations commands. Configuration comes from
 * the same environment variables (and .env) as the server.
 *
 * ## Adding a command
 * Add one row to COMMANDS below; nothing else in this file changes:
 *
 *   rules: {
 *     summary: 'auto-reply rules: list, add, remove, test',        // one line in `wxmp help`
 *     usage: async () => (await import('./commands/rules.js')).RULES_USAGE,
 *     config: 'read',                                               // see CommandSpec.config
 *     run: async (args, io) => (await import('./commands/rules.js')).runRulesCommand(args, io),
 *   },
 *
 * The usage text is the command's whole help: paragraphs, each starting with a synopsis line
 * `wxmp rules <sub> …`, then indented lines. The dispatcher answers `--help` / `-h` anywhere
 * in the arguments (before a `--`) by printing it, and never calls `run` then, never loads the
 * configuration, never opens a store: a command does not parse --help itself. A test
 * (help.test.ts) runs `--help` on every row and on every subcommand its synopses name, and
 * checks that nothing was started, written or called.
 *
 * Command modules are imported only when their command runs (or for its help text): `wxmp
 * serve` never loads the simulator, the fake WeChat server or the API commands.
 */
import { existsSync } from 'node:fs'
import { WxmpError, isWxmpError } from '../errors.js'
import { loadConfig, type WxmpConfig } from '../server/config.js'
import { AccountUsageError, leadingAccountOptions, resolveAccountChoice, type CliAccount } from './account-option.js'
import { installShutdown, quietOnClosedPipe } from './process-handling.js'
import { VERSION } from '../version.js'

export type Print = (line: string) => void

/** What a command gets besides its arguments. */
export interface CommandIO {
  /** The configuration (environment and .env); for `config: 'none'` commands an empty stand-in is never built: do not read it. */
  config: WxmpConfig
  /**
   * The account chosen with --account (or the only one) when an accounts file is used;
   * undefined with environment-only configuration. Commands reading the message log or the
   * followers filter by its name.
   */
  account: CliAccount | undefined
  /** Every configured account (`wxmp accounts`); for other commands, at least the chosen one. */
  accounts: CliAccount[]
  /** Whether the accounts come from an accounts file (--config, WXMP_CONFIG_FILE). */
  accountsFromFile: boolean
  print: Print
  printErr: Print
  /** Aborted on SIGINT/SIGTERM (the handlers are installed on first use). */
  stopSignal(): AbortSignal
}

export interface CommandSpec {
  /** One line for `wxmp help`. */
  summary: string
  /** The full help text: paragraphs starting `wxmp <name> …`. Loaded only for help. */
  usage(): Promise<string>
  /**
   * What the command needs from the configuration:
   * - 'create': the server; in development it generates the Token into ./data/dev-token;
   * - 'read': reads ./data/dev-token when it exists, never writes anything;
   * - 'none': no configuration (the fake WeChat server).
   */
  config: 'create' | 'read' | 'none'
  /**
   * Accounts (several Official Accounts, an accounts file): 'one' takes `--account <name>` and
   * `--config <file>` out of the arguments (the dispatcher does, once) and runs the command with
   * that account's configuration; 'all' gives every account (`wxmp accounts`). Unset: neither
   * option is read (the command parses its own arguments as they come).
   */
  account?: 'one' | 'all'
  /** Runs the command; resolves to the exit code. */
  run(args: string[], io: CommandIO): Promise<number>
  /** The help of one subcommand (`wxmp rules add --help`), when the command has subcommands with their own. */
  subcommandUsage?(sub: string): Promise<string | undefined>
}

/** The paragraphs of a usage text whose synopsis names this command (`wxmp log …` of DB_USAGE). */
export function usageOf(usage: string, name: string): string {
  const paragraphs: string[][] = []
  for (const line of usage.split('\n')) {
    if (line.startsWith('wxmp ') || paragraphs.length === 0) paragraphs.push([line])
    else paragraphs[paragraphs.length - 1]!.push(line)
  }
  const mine = paragraphs.filter((p) => p[0]!.startsWith(`wxmp ${name} `) || p[0] === `wxmp ${name}`)
  return (mine.length > 0 ? mine : paragraphs).map((p) => p.join('\n')).join('\n')
}

const api = () => import('./commands/api.js')
const db = () => import('./commands/db.js')

export const COMMANDS: Record<string, CommandSpec> = {
  serve: {
    summary: 'start the webhook server (npm start)',
    usage: async () => (await import('./commands/serve.js')).SERVE_USAGE,
    config: 'create',
    run: async (args, io) => {
      const { runServeCommand } = await import('./commands/serve.js')
      const banner: string[] = []
      const { server } = await runServeCommand(args, io.config, (line) => banner.push(line))
      // the signal handlers first: a process manager may stop the server as soon as it speaks
      installShutdown(server.close, io.printErr)
      for (const line of banner) io.printErr(line)
      return await new Promise<number>(() => {}) // runs until a signal
    },
  },
  simulate: {
    summary: 'play WeChat against the server (signing, encryption, 5 s timeout, 3 attempts)',
    usage: async () => (await import('./commands/simulate.js')).SIMULATE_USAGE,
    config: 'read',
    account: 'one',
    run: async (args, io) => {
      devTokenNote(io, args)
      return (await import('./commands/simulate.js')).runSimulateCommand(args, io.config, io.print)
    },
  },
  doctor: {
    summary: 'check a deployment the way WeChat sees it: URL, Token, mode, clock, API, storage',
    usage: async () => (await import('../doctor/command.js')).DOCTOR_USAGE,
    config: 'read',
    account: 'one',
    run: async (args, io) => {
      devTokenNote(io, args)
      return (await import('../doctor/command.js')).runDoctorCommand(args, io)
    },
  },
  'fake-wechat': {
    summary: 'a fake WeChat API server for tests and local development',
    usage: async () => (await import('./commands/fake-wechat.js')).FAKE_WECHAT_USAGE,
    config: 'none',
    run: async (args, io) => (await import('./commands/fake-wechat.js')).runFakeWechatCommand(args, io.print, { signal: io.stopSignal() }),
  },
  token: {
    summary: 'print a valid access_token (shared with the running server)',
    usage: async () => usageOf((await api()).API_USAGE, 'token'),
    config: 'read',
    account: 'one',
    run: async (args, io) => (await api()).runTokenCommand(args, io),
  },
  menu: {
    summary: 'publish, show or delete the custom menu',
    usage: async () => usageOf((await api()).API_USAGE, 'menu'),
    config: 'read',
    account: 'one',
    run: async (args, io) => (await api()).runMenuCommand(args, io),
  },
  send: {
    summary: 'send a customer-service text message',
    usage: async () => usageOf((await api()).API_USAGE, 'send'),
    config: 'read',
    account: 'one',
    run: async (args, io) => (await api()).runSendCommand(args, io),
  },
  user: {
    summary: "print a follower's profile",
    usage: async () => usageOf((await api()).API_USAGE, 'user'),
    config: 'read',
    account: 'one',
    run: async (args, io) => (await api()).runUserCommand(args, io),
  },
  accounts: {
    summary: 'the configured accounts and their health: token, last message, mode, path',
    usage: async () => (await import('./commands/accounts.js')).ACCOUNTS_USAGE,
    config: 'read',
    account: 'all',
    run: async (args, io) => (await import('./commands/accounts.js')).runAccountsCommand(args, { accounts: io.accounts, filtered: io.accountsFromFile, print: io.print }),
  },
  db: {
    summary: 'apply schema migrations to DATABASE_URL (every account\'s database)',
    usage: async () => usageOf((await db()).DB_USAGE, 'db'),
    config: 'read',
    account: 'all',
    run: async (args, io) => {
      if (args[0] !== 'migrate' || args.length > 1) return usageError(io, 'wxmp db migrate')
      const { runDbMigrate } = await db()
      // accounts usually share one database: each distinct one is migrated once
      for (const databaseUrl of new Set(io.accounts.map((a) => a.config.databaseUrl))) {
        const code = await runDbMigrate({ databaseUrl }, io.print)
        if (code !== 0) return code
      }
      return 0
    },
  },
  log: {
    summary: 'print and follow the message log',
    usage: async () => usageOf((await db()).DB_USAGE, 'log'),
    config: 'read',
    account: 'one',
    run: async (args, io) => {
      if (args[0] !== 'tail') return usageError(io, 'wxmp log tail [-n 20] [--once] …')
      return (await db()).runLogTail(args.slice(1), io.config, io.print, { signal: io.stopSignal(), account: io.account })
    },
  },
  followers: {
    summary: 'follower counts and recent subscribes/unsubscribes',
    usage: async () => usageOf((await db()).DB_USAGE, 'followers'),
    config: 'read',
    account: 'one',
    run: async (args, io) => (await db()).runFollowers(args, io.config, io.print, { account: io.account }),
  },
  rules: {
    summary: 'replies without code: list, add, test, import from the MP console, export',
    usage: async () => {
      const { RULES_USAGE, RULES_SUBCOMMANDS } = await import('./commands/rules.js')
      return [RULES_USAGE, '', ...Object.values(RULES_SUBCOMMANDS)].join('\n')
    },
    subcommandUsage: async (sub) => {
      const { RULES_SUBCOMMANDS } = await import('./commands/rules.js')
      return Object.hasOwn(RULES_SUBCOMMANDS, sub) ? RULES_SUBCOMMANDS[sub] : undefined
    },
    config: 'read',
    account: 'one',
    run: async (args, io) => (await import('./commands/rules.js')).runRulesCommand(args, io),
  },
  publish: {
    summary: 'publish a Markdown post as an article: images, cover, draft, submit, follow',
    usage: async () => (await import('./commands/publish.js')).PUBLISH_USAGE,
    config: 'read',
    account: 'one',
    run: async (args, io) => (await import('./commands/publish.js')).runPublishCommand(args, io),
  },
  draft: {
    summary: 'the draft box: list, show, delete',
    usage: async () => (await import('./commands/draft.js')).DRAFT_USAGE,
    config: 'read',
    account: 'one',
    run: async (args, io) => (await import('./commands/draft.js')).runDraftCommand(args, io),
  },
  material: {
    summary: 'permanent material: list, upload, delete',
    usage: async () => (await import('./commands/material.js')).MATERIAL_USAGE,
    config: 'read',
    account: 'one',
    run: async (args, io) => (await import('./commands/material.js')).runMaterialCommand(args, io),
  },
  console: {
    summary: 'the operator console: add an operator (prints or stores a password hash)',
    usage: async () => (await import('./commands/console.js')).CONSOLE_USAGE,
    config: 'none',
    run: async (args, io) => (await import('./commands/console.js')).runConsoleCommand(args, io),
  },
}

const HELP_FLAGS = new Set(['--help', '-h'])

/** `--help` anywhere before a `--` (after it, arguments are data: `wxmp send o… -- --help`). */
function asksForHelp(args: string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false
    if (HELP_FLAGS.has(arg)) return true
  }
  return false
}

async function overview(): Promise<string> {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2
  const rows = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}${spec.summary}`)
  return `wxmp ${VERSION} — WeChat Official Account webhook server and tools

Usage: wxmp <command> [options]        wxmp <command> --help  (or wxmp help <command>) for its options

${rows.join('\n')}
  ${'help'.padEnd(width)}this text
  ${'version'.padEnd(width)}print the version

Configuration: environment variables or .env (see README): WECHAT_TOKEN, WECHAT_APPID,
WECHAT_APPSECRET, WECHAT_AES_KEY, WECHAT_API_BASE, PORT, WECHAT_PATH, DATABASE_URL, REDIS_URL …
Several accounts: an accounts file (--config FILE or WXMP_CONFIG_FILE); commands that talk to
WeChat or the database take --account NAME (needed when the file lists several; wxmp accounts).`
}

const defaultPrint: Print = (l) => process.stdout.write(l + '\n')
const defaultPrintErr: Print = (l) => process.stderr.write(l + '\n')

/** @param env the configuration's variables (tests pass their own; default process.env). */
export async function main(argv: string[], print: Print = defaultPrint, printErr: Print = defaultPrintErr, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (print === defaultPrint) quietOnClosedPipe()
  const [command, ...rest] = leadingAccountOptions(argv)
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? rest[0] : undefined
    if (topic !== undefined && Object.hasOwn(COMMANDS, topic)) {
      print(withAccountOptions(COMMANDS[topic]!, await COMMANDS[topic]!.usage()))
      return 0
    }
    print(await overview())
    return command === undefined ? 2 : 0
  }
  if (command === 'version' || command === '--version' || command === '-v') {
    print(VERSION)
    return 0
  }
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
  if (spec === undefined) {
    printErr(`wxmp: unknown command ${JSON.stringify(command)}\n\n${await overview()}`)
    return 2
  }
  if (asksForHelp(rest)) {
    const sub = rest[0]
    const specific = sub !== undefined && !sub.startsWith('-') ? await spec.subcommandUsage?.(sub) : undefined
    print(withAccountOptions(spec, specific ?? (await spec.usage())))
    return 0
  }
  let config: WxmpConfig
  let args = rest
  let account: CliAccount | undefined
  let accounts: CliAccount[] = []
  let accountsFromFile = false
  try {
    if (spec.account !== undefined && spec.config !== 'none') {
      const choice = await resolveAccountChoice(rest, env, spec.account, spec.config)
      ;({ config, account, accounts, args, fromFile: accountsFromFile } = choice)
    } else if (spec.config === 'none') config = NO_CONFIG
    else {
      // an accounts file brings its own Tokens: no development Token is made for it
      const devToken = spec.config === 'create' && (await namesAccountsFile(rest, env)) ? 'read' : spec.config
      config = loadConfig(env, { devToken })
    }
  } catch (err) {
    if (err instanceof AccountUsageError) {
      printErr(`wxmp: ${err.message}`)
      return 2
    }
    printErr(`wxmp: configuration error: ${(err as Error).message}`)
    return 78 // EX_CONFIG
  }
  let stop: AbortController | undefined
  const io: CommandIO = {
    config,
    account,
    accounts,
    accountsFromFile,
    print,
    printErr,
    stopSignal() {
      if (stop === undefined) {
        const controller = (stop = new AbortController())
        process.once('SIGINT', () => controller.abort())
        process.once('SIGTERM', () => controller.abort())
      }
      return stop.signal
    },
  }
  try {
    return await spec.run(args, io)
  } catch (err) {
    if (isWxmpError(err)) {
      printErr(`wxmp: ${err.code}: ${err.message}`)
      return err.code === 'WX_ERR_CONFIG' ? 78 : 1
    }
    const code = (err as { code?: string }).code
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      printErr(`wxmp: ${(err as Error).message}`)
      printErr(`  (wxmp ${command} --help lists its options)`)
      return 2
    }
    if (code === 'EADDRINUSE') {
      printErr(`wxmp: the port is already in use: stop the other server or set PORT / --port`)
      return 1
    }
    throw err
  }
}

/** The options the dispatcher reads for the command, told once under its own usage. */
function withAccountOptions(spec: CommandSpec, usage: string): string {
  if (spec.account === undefined || /^\s+--account\b/m.test(usage)) return usage
  return `${usage}
  --account NAME  with an accounts file (--config FILE, or WXMP_CONFIG_FILE): the account to use;
                  ${spec.account === 'all' ? 'default: every account' : 'needed when the file lists several'}`
}

function usageError(io: CommandIO, synopsis: string): number {
  io.printErr(`wxmp: usage: ${synopsis}`)
  return 2
}

/** A command that needs no configuration gets this; reading it is a bug the type cannot catch, so it is empty and frozen. */
const NO_CONFIG = Object.freeze({}) as WxmpConfig

/** In development without ./data/dev-token here, the Token is a throwaway one: say so before a 401 does. */
function devTokenNote(io: CommandIO, args: string[]): void {
  const { config } = io
  if (!config.dev || config.tokenFile === undefined || existsSync(config.tokenFile)) return
  if (args.some((a) => a === '--token' || a.startsWith('--token='))) return
  io.printErr(`wxmp: note: no WECHAT_TOKEN and no ${config.tokenFile}: run this where the server runs (it keeps its development Token there), or pass --token`)
}

export { WxmpError }

/** Whether `wxmp serve` will read an accounts file (`--config`, WXMP_CONFIG_FILE or ./wxmp.config.*). */
async function namesAccountsFile(args: readonly string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  if (args.some((arg) => arg === '--config' || arg.startsWith('--config='))) return true
  const { accountsFileOf } = await import('../accounts/config.js')
  try {
    return accountsFileOf({ env }) !== undefined
  } catch {
    return true // WXMP_CONFIG_FILE names a missing file: serve says so
  }
}
