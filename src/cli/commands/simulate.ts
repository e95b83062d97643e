/**
 * `wxmp simulate`: WeChat's side of the webhook from the terminal. `npm start` in one terminal,
 * `npx wxmp simulate text 你好` in another: the same Token (config, or ./data/dev-token in
 * development), the server's port and path, WeChat's headers, 5 s budget and 3 attempts.
 * When the server calls the fake WeChat server (WECHAT_API_BASE on loopback), the answer it
 * sends later through the customer-service API is waited for and printed too; an answer that
 * waits for the user's next message is fetched by writing again ("继续"), as a user would.
 */
import { parseArgs } from 'node:util'
import { isWxmpError } from '../../errors.js'
import type { WxmpConfig } from '../../server/config.js'
import type { EncryptionMode } from '../../testing/signed-request.js'
import { LATE_NOT_SHOWN } from '../../testing/late-sends.js'
import { buildSimulatedMessage, describeReply, LATE_WAIT_MS, SIMULATED_KINDS, SIMULATED_USAGE_HINT, simulate, verifyUrl, WECHAT_ATTEMPTS, WECHAT_TIMEOUT_MS, type LateMessage, type SimulatedAttempt, type SimulateResult } from '../../testing/simulator.js'

export const SIMULATE_USAGE = `wxmp simulate <kind> [args] [options]
  Plays WeChat against your webhook: signs (and with --mode compat/safe encrypts) a message,
  POSTs it with WeChat's headers, waits 5 s per attempt, makes 3 attempts when nothing
  answers, and shows what the user would have seen, including the answer sent later
  through the customer-service API when the server talks to \`wxmp fake-wechat\`, and an
  answer that waits for the user's next message (fetched by writing "继续" again).
  kinds:
    text <message>                 a text message (Content)
    image|voice|video|shortvideo [MediaId]
    location <lat> <lon> [label]   a location message (Location_X, Location_Y, Scale, Label)
    link <url> [title]             a link message
    click <EventKey>               a menu click (event CLICK)
    view <url>                     a menu link (event VIEW)
    event subscribe [scene]        a follow; with a scene: EventKey qrscene_<scene> + Ticket
    event SCAN <scene>             a follower scanned a parametric QR code
    event <Event> [EventKey]       any other event (LOCATION takes <lat> <lon> [precision])
    xml <file>                     a message XML from a file, sent as is
    verify                         the console's URL check (GET with echostr)
  options:
    --url URL          webhook URL (default http://127.0.0.1:<PORT><WECHAT_PATH>)
    --token T          Token (default WECHAT_TOKEN, or ./data/dev-token in development)
    --mode M           plain (default; safe when WECHAT_REQUIRE_ENCRYPTION=1), compat or safe
    --aes-key K        EncodingAESKey for compat/safe (default WECHAT_AES_KEY)
    --appid ID         AppID for compat/safe (default WECHAT_APPID)
    --openid ID        the user's OpenID (FromUserName)
    --original-id ID   the account's 原始ID gh_… (ToUserName)
    --account NAME     with an accounts file: the account to play against (its path,
                       Token, AES key, AppID); --config FILE names the file
    --timeout MS       budget per attempt (default 5000, WeChat's)
    --attempts N       attempts when nothing answers (default 3, WeChat's)
    --echostr S        echostr for verify (default random digits)
    --late-from URL    fake WeChat server to read late customer-service messages from
                       (default WECHAT_API_BASE when it is http on loopback; off to skip)
    --wait SECONDS     how long to wait for the late answer after success or the
                       interim (default 30; 0 looks once)
    --interim TEXT     the server's interim text (default WECHAT_INTERIM; a wxmp server
                       says so itself, also for an interim set in code)
    --follow-up TEXT   what the user writes when the answer waits for the next message
                       (default WECHAT_PENDING_KEYWORD, else 继续; off to stop there)
    --json             print the whole result as JSON
  exit code: 0 reply or no reply, 1 error banner (or failed verify), 2 usage error`

type Print = (line: string) => void

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  mode: { type: 'string' },
  'aes-key': { type: 'string' },
  appid: { type: 'string' },
  openid: { type: 'string' },
  'original-id': { type: 'string' },
  timeout: { type: 'string' },
  attempts: { type: 'string' },
  echostr: { type: 'string' },
  'late-from': { type: 'string' },
  wait: { type: 'string' },
  interim: { type: 'string' },
  'follow-up': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/**
 * Negative numbers (`location -33.86 151.21`) look like options to parseArgs; they are marked
 * before parsing and unmarked after, so they stay positionals (or option values).
 */
const NEGATIVE = '\u0000'
const protect = (arg: string) => (/^-\d/.test(arg) ? NEGATIVE + arg : arg)
const unprotect = (arg: string) => (arg.startsWith(NEGATIVE) ? arg.slice(1) : arg)

class UsageError extends Error {}

/**
 * Runs `wxmp simulate …` and returns the exit code: 0 when the user got a reply or no reply,
 * 1 when WeChat would show the error banner (or the URL check fails), 2 on a usage error.
 *
 * @example
 * const code = await runSimulateCommand(['text', '你好'], loadConfig(process.env), console.log)
 */
export async function runSimulateCommand(argv: string[], config: WxmpConfig, print: Print): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv, config)
  } catch (err) {
    return usageFailure(err, print)
  }
  if (parsed === 'help') {
    print(SIMULATE_USAGE)
    return 0
  }
  const { kind, args, values, url, token, timeoutMs, attempts, late } = parsed
  try {
    if (kind === 'verify') {
      const result = await verifyUrl({ url, token, timeoutMs, ...(values.echostr === undefined ? {} : { echostr: values.echostr }) })
      if (values.json) print(JSON.stringify(result, null, 2))
      else {
        print(`→ GET ${url}  (URL check, echostr ${result.echostr})`)
        print(`  ${result.status === undefined ? 'no answer' : `HTTP ${result.status}`} in ${result.latencyMs} ms${result.body === undefined ? '' : `, body ${JSON.stringify(result.body.slice(0, 60))}`}`)
        print(`${result.ok ? '✓' : '✗'} ${result.detail}`)
        for (const warning of result.warnings) print(`  note: ${warning}`)
      }
      return result.ok ? 0 : 1
    }
    const mode = modeOf(values.mode, config)
    const encodingAESKey = values['aes-key'] ?? config.encodingAESKey
    const appId = values.appid ?? config.appId
    if (mode !== 'plain') {
      if (encodingAESKey === undefined) throw new UsageError(`--mode ${mode} encrypts the message: pass --aes-key (the 43-character EncodingAESKey) or set WECHAT_AES_KEY`)
      if (appId === undefined) throw new UsageError(`--mode ${mode} puts the AppID in the ciphertext: pass --appid wx… or set WECHAT_APPID`)
    }
    const message = buildSimulatedMessage(kind, args, {
      ...(values.openid === undefined ? {} : { openid: values.openid }),
      ...(values['original-id'] === undefined ? {} : { account: values['original-id'] }),
    })
    let waitedMs: number | undefined
    const interim = values.interim ?? config.interim
    const followUp = followUpOf(values['follow-up'], config)
    let label = message.label
    const result = await simulate({
      url,
      token,
      mode,
      xml: message.xml,
      timeoutMs,
      attempts,
      ...(mode === 'plain' ? {} : { encodingAESKey, appId }),
      ...(late === undefined ? {} : { lateFrom: late.from, lateWaitMs: late.waitMs }),
      ...(interim === undefined ? {} : { interim }),
      ...(followUp === undefined ? {} : { followUp }),
      ...(values.json
        ? {}
        : {
            onRequest: () => print(`→ POST ${url}  ${label}  (${MODE_NAMES[mode]})`),
            onFollowUp: ({ n, text }: { n: number; text: string }) => {
              if (n === 1) print(`  the answer waits for the user's next message: writing ${JSON.stringify(text)} as the user would`)
              label = `text ${JSON.stringify(text)} (follow-up ${n})`
            },
            onAttempt: (attempt: SimulatedAttempt) => print(attemptLine(attempt, attempts)),
            onOutcome: (final: SimulateResult['final']) => {
              for (const line of outcomeLines(final)) print(line)
            },
            onLateWait: ({ from, waitMs }: { from: string; waitMs: number }) => {
              waitedMs = waitMs
              print(`  waiting up to ${seconds(waitMs)} s for the late answer (customer-service messages recorded by ${from})`)
            },
            onLate: (message: LateMessage) => print(lateLine(message)),
          }),
    })
    if (values.json) print(JSON.stringify(result, null, 2))
    else for (const line of closingLines(result, waitedMs)) print(line)
    return result.final.kind === 'error-banner' ? 1 : 0
  } catch (err) {
    return usageFailure(err, print)
  }
}

const MODE_NAMES: Record<EncryptionMode, string> = { plain: 'plaintext 明文', compat: 'compatible 兼容模式', safe: 'safe 安全模式' }

function parse(argv: string[], config: WxmpConfig) {
  const { values, positionals } = parseArgs({ args: argv.map(protect), options: OPTIONS, allowPositionals: true, strict: true })
  for (const [name, value] of Object.entries(values)) if (typeof value === 'string') (values as Record<string, unknown>)[name] = unprotect(value)
  const [kind, ...args] = positionals.map(unprotect)
  if (values.help === true || kind === 'help') return 'help' as const
  if (kind === undefined) throw new UsageError(`say what to send, e.g. wxmp simulate text 你好; ${SIMULATED_USAGE_HINT}, verify`)
  // the server's own PORT, HOST and WECHAT_PATH (environment or .env), so the two commands meet
  const url = values.url ?? `http://${hostOf(config.host)}:${config.port}${config.path}`
  const token = values.token ?? config.token
  const timeoutMs = values.timeout === undefined ? WECHAT_TIMEOUT_MS : whole(values.timeout, '--timeout', 1, 600_000, 'milliseconds, e.g. 5000')
  const attempts = values.attempts === undefined ? WECHAT_ATTEMPTS : whole(values.attempts, '--attempts', 1, 10, 'e.g. 3')
  if (kind !== 'verify' && !(SIMULATED_KINDS as readonly string[]).includes(kind)) {
    throw new UsageError(`unknown kind ${JSON.stringify(kind.slice(0, 60))}; ${SIMULATED_USAGE_HINT}, verify`)
  }
  if (kind === 'verify' && args.length > 0) throw new UsageError('verify takes no arguments: wxmp simulate verify [--url …] [--token …]')
  if (kind === 'verify' && (values['late-from'] !== undefined || values.wait !== undefined || values.interim !== undefined || values['follow-up'] !== undefined)) {
    throw new UsageError('verify sends no message, so nothing comes later: --late-from, --wait, --interim and --follow-up are for messages')
  }
  return { kind, args, values, url, token, timeoutMs, attempts, late: lateOf(values['late-from'], values.wait, config) }
}

/**
 * Late messages are read from the fake WeChat server: the one given, or the server's own
 * WECHAT_API_BASE when that is plain http on loopback (that is `wxmp fake-wechat`, never the
 * real API).
 */
function lateOf(rawFrom: string | undefined, rawWait: string | undefined, config: WxmpConfig): { from: string; waitMs: number } | undefined {
  if (rawFrom !== undefined && rawFrom !== 'off' && !/^https?:\/\/[^\s/?#]+[^\s?#]*$/.test(rawFrom)) {
    throw new UsageError(`--late-from ${JSON.stringify(rawFrom.slice(0, 80))} must be the fake WeChat server's URL, e.g. http://127.0.0.1:8081, or off`)
  }
  const from = rawFrom === 'off' ? undefined : (rawFrom ?? (isLoopbackHttp(config.apiBase) ? config.apiBase : undefined))
  if (from === undefined) {
    if (rawWait !== undefined) throw new UsageError('--wait needs a fake WeChat server to read late messages from: pass --late-from http://127.0.0.1:8081 (or run the server with WECHAT_API_BASE pointing at wxmp fake-wechat)')
    return undefined
  }
  if (rawWait === undefined) return { from, waitMs: LATE_WAIT_MS }
  if (!/^\d+(\.\d+)?$/.test(rawWait) || Number(rawWait) > 600) throw new UsageError(`--wait ${JSON.stringify(rawWait.slice(0, 40))} must be a number of seconds from 0 to 600, e.g. 30`)
  return { from, waitMs: Math.round(Number(rawWait) * 1000) }
}

/** What the simulated user writes when the answer waits for their next message; undefined: stop there. */
function followUpOf(raw: string | undefined, config: WxmpConfig): string | undefined {
  if (raw === 'off') return undefined
  if (raw !== undefined && (raw.trim() === '' || raw.length > 600)) throw new UsageError('--follow-up must be a short text (the word a user writes, e.g. 继续), or off')
  return raw ?? config.pendingKeyword ?? '继续'
}

/** The address the server listens on, as the simulator reaches it: a wildcard means this machine. */
function hostOf(host: string): string {
  if (host === '' || host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1'
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

function isLoopbackHttp(base: string): boolean {
  try {
    const { protocol, hostname } = new URL(base)
    return protocol === 'http:' && (hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname))
  } catch {
    return false
  }
}

function whole(raw: string, name: string, min: number, max: number, example: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`${name} ${JSON.stringify(raw)} must be a whole number from ${min} to ${max} (${example})`)
  return Number(raw)
}

/** plain unless asked; a server that refuses plaintext (WECHAT_REQUIRE_ENCRYPTION) is simulated in safe mode. */
function modeOf(raw: string | undefined, config: WxmpConfig): EncryptionMode {
  if (raw === undefined) return config.requireEncryption && config.encodingAESKey !== undefined && config.appId !== undefined ? 'safe' : 'plain'
  if (raw === 'plain' || raw === 'compat' || raw === 'safe') return raw
  throw new UsageError(`--mode ${JSON.stringify(raw)} must be plain, compat or safe`)
}

function usageFailure(err: unknown, print: Print): number {
  const code = (err as { code?: unknown }).code
  const isUsage = err instanceof UsageError || isWxmpError(err, 'WX_ERR_CONFIG') || isWxmpError(err, 'WX_ERR_AES_KEY_INVALID') || code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
  if (!isUsage) throw err
  print(`wxmp simulate: ${(err as Error).message}`)
  print('  (wxmp simulate --help lists every kind and option)')
  return 2
}

function attemptLine(attempt: SimulatedAttempt, of: number): string {
  const head = `  attempt ${attempt.n}/${of}: `
  const status = attempt.status === undefined ? '' : `HTTP ${attempt.status} `
  // an answer's problem is printed once, in the summary; a missing answer's cause belongs here
  const detail = attempt.detail === undefined || attempt.status !== undefined ? '' : ` (${attempt.detail})`
  const retry = (attempt.outcome === 'timeout' || attempt.outcome === 'network-error') && attempt.n < of ? ', WeChat retries' : ''
  return `${head}${status}${attempt.outcome} in ${attempt.latencyMs} ms${detail}${retry}`
}

/** The passive answer, printed as soon as it is known (late messages follow it). */
function outcomeLines(final: SimulateResult['final']): string[] {
  if (final.kind === 'reply' && final.reply !== undefined) {
    const type = typeof final.reply.MsgType === 'string' ? final.reply.MsgType : '?'
    return [`← ${type}${final.encrypted ? ' (encrypted, MsgSignature verified)' : ''}: ${describeReply(final.reply)}`]
  }
  if (final.kind === 'no-reply') return ['← success (no reply)']
  return [`✗ ${final.detail ?? 'no valid answer'}`, ...(final.hint === undefined ? [] : [`  hint: ${final.hint}`])]
}

const seconds = (ms: number) => (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)

function lateLine(message: LateMessage): string {
  const after = `${(message.afterMs / 1000).toFixed(1)} s`
  if (message.kind === 'typing') return `  ⇢ typing… (${after})`
  const via = message.kind === 'template' ? `template ${message.msgtype}` : `customer service ${message.msgtype}`
  return `  ⇢ ${via} (${after}): ${message.text}`
}

function closingLines(result: SimulateResult, waitedMs: number | undefined): string[] {
  const lines: string[] = []
  const answered = result.late?.some((m) => m.kind !== 'typing') ?? false
  const unread = result.warnings.some((w) => w.endsWith(LATE_NOT_SHOWN))
  if (waitedMs !== undefined && !answered && !unread) lines.push(`  no customer-service message within ${seconds(waitedMs)} s`)
  for (const warning of result.warnings) lines.push(`  warning: ${warning}`)
  lines.push(`  user saw: ${result.userSaw}`)
  const follow = result.followUps === undefined || result.followUps.length === 0 ? '' : `, then ${result.followUps.length} follow-up message${result.followUps.length === 1 ? '' : 's'}`
  lines.push(`  total ${result.totalMs} ms in ${result.attempts.length} attempt${result.attempts.length === 1 ? '' : 's'}${follow}`)
  return lines
}
