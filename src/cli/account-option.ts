/**
 * `--account <name>` and `--config <file>`, read once for every command that talks to WeChat
 * or the database: cli/main.ts takes them out of the arguments here, loads the configuration
 * (the accounts file, or the environment as before) and hands the command the chosen account's
 * WxmpConfig. A command never parses them itself.
 *
 * - No accounts file (no --config, no WXMP_CONFIG_FILE, no ./wxmp.config.*): the environment,
 *   exactly as before; `--account` names nothing but its one account, `default`.
 * - One account in the file: it, with or without `--account`.
 * - Several: `--account` names one; without it the command stops with the names (exit 2).
 */
import type { WxmpConfig } from '../server/config.js'

/** One configured account as the CLI sees it. */
export interface CliAccount {
  name: string
  /** The webhook path it answers at. */
  path: string
  config: WxmpConfig
}

/** What a command gets: its account's configuration, and every account (for `wxmp accounts`). */
export interface AccountChoice {
  config: WxmpConfig
  /** The chosen account; undefined with environment-only configuration. */
  account: CliAccount | undefined
  /** Every configured account (one with environment-only configuration, named as the accounts file would name it). */
  accounts: CliAccount[]
  /** The arguments without --account and --config. */
  args: string[]
  /** Whether the accounts come from an accounts file (else: the environment, as before accounts). */
  fromFile: boolean
}

/** A usage mistake the dispatcher prints and answers with exit 2. */
export class AccountUsageError extends Error {
  readonly code = 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
}

export interface AccountOptions {
  account: string | undefined
  configFile: string | undefined
  args: string[]
}

const NAMES = ['--account', '--config'] as const

/** Takes `--account X`, `--account=X`, `--config F`, `--config=F` out of the arguments (before a `--`). */
export function takeAccountOptions(args: readonly string[]): AccountOptions {
  const found: Record<(typeof NAMES)[number], string | undefined> = { '--account': undefined, '--config': undefined }
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--') {
      rest.push(...args.slice(i))
      break
    }
    const name = NAMES.find((n) => arg === n || arg.startsWith(`${n}=`))
    if (name === undefined) {
      rest.push(arg)
      continue
    }
    let value: string | undefined
    if (arg.length > name.length) value = arg.slice(name.length + 1)
    else {
      value = args[i + 1]
      i++
    }
    if (value === undefined || value === '' || value.startsWith('-')) throw new AccountUsageError(`${name} needs a value: ${name === '--account' ? '--account <name>' : '--config <file>'}`)
    if (found[name] !== undefined && found[name] !== value) throw new AccountUsageError(`${name} is given twice (${JSON.stringify(found[name])} and ${JSON.stringify(value)})`)
    found[name] = value
  }
  return { account: found['--account'], configFile: found['--config'], args: rest }
}

/** Picks the account a command runs for, or says which names there are. */
export function chooseAccount(accounts: readonly CliAccount[], name: string | undefined, source: string): CliAccount {
  const names = accounts.map((a) => a.name)
  if (name === undefined) {
    if (accounts.length === 1) return accounts[0]!
    throw new AccountUsageError(`${source} configures ${accounts.length} accounts: pick one with --account <name> (${names.join(', ')})`)
  }
  const found = accounts.find((a) => a.name === name)
  if (found === undefined) {
    const hint = name.startsWith('gh_') ? ' (the 原始ID gh_… of `wxmp simulate` is now --original-id)' : ''
    throw new AccountUsageError(`no account named ${JSON.stringify(name.slice(0, 64))} in ${source}: the accounts are ${names.join(', ')}${hint}`)
  }
  return found
}

export interface LoadCliAccountsOptions {
  /** --config (wins over WXMP_CONFIG_FILE and ./wxmp.config.*). */
  configFile: string | undefined
  devToken: 'create' | 'read'
}

/** The name the single account of environment-only configuration goes by. */
export const ENV_ACCOUNT = 'default'

/** The accounts file's accounts, or the environment's one account; and where they came from, for messages. */
export async function loadCliAccounts(env: NodeJS.ProcessEnv, options: LoadCliAccountsOptions): Promise<{ accounts: CliAccount[]; source: string; file: boolean }> {
  const { loadAccounts } = await import('../accounts/config.js')
  const loaded = await loadAccounts({ env, file: options.configFile, devToken: options.devToken })
  const accounts = loaded.accounts.map((config) => ({ name: config.name, path: config.path, config }))
  return { accounts, source: loaded.file ?? 'the environment', file: loaded.source === 'file' }
}

/** Everything main() needs: the chosen account (or all of them for `wxmp accounts`). */
export async function resolveAccountChoice(args: readonly string[], env: NodeJS.ProcessEnv, want: 'one' | 'all', devToken: 'create' | 'read'): Promise<AccountChoice> {
  const options = takeAccountOptions(args)
  const { accounts, source, file } = await loadCliAccounts(env, { configFile: options.configFile, devToken })
  if (want === 'all' && options.account === undefined) return { config: accounts[0]!.config, account: undefined, accounts, args: options.args, fromFile: file }
  if (!file && options.account !== undefined && options.account !== ENV_ACCOUNT) {
    const hint = options.account.startsWith('gh_') ? ' (the 原始ID gh_… of `wxmp simulate` is now --original-id)' : ''
    throw new AccountUsageError(`--account ${JSON.stringify(options.account.slice(0, 64))}: there is no accounts file (--config, WXMP_CONFIG_FILE or ./wxmp.config.json), only the environment's account "${ENV_ACCOUNT}"${hint}`)
  }
  const account = chooseAccount(accounts, options.account, source)
  return { config: account.config, account: file ? account : undefined, accounts: want === 'all' ? [account] : accounts, args: options.args, fromFile: file }
}

/**
 * How the message log and the followers are narrowed to one account: by the account's name,
 * the column the server writes (environment-only configuration: no filter, as before).
 */
export function logFilterOf(account: Pick<CliAccount, 'name'> | undefined): { account?: string } {
  return account === undefined ? {} : { account: account.name }
}

/** `wxmp --account shop token` is `wxmp token --account shop`: options before the command go after it. */
export function leadingAccountOptions(argv: string[]): string[] {
  let i = 0
  while (i < argv.length && /^--(account|config)(=|$)/.test(argv[i]!)) i += argv[i]!.includes('=') ? 1 : 2
  // right after the command, so that a `--` further on still ends the options
  return i === 0 || i >= argv.length ? argv : [argv[i]!, ...argv.slice(0, i), ...argv.slice(i + 1)]
}
