/**
 * `wxmp fake-wechat [--port 8081] [--host 127.0.0.1] [--appid …] [--secret …] [--quiet]`: runs
 * the fake WeChat API server until Ctrl-C. Point WECHAT_API_BASE at it, with WECHAT_APPID and
 * WECHAT_APPSECRET set to the values it prints.
 */
import { parseArgs } from 'node:util'
import { WxmpError } from '../../errors.js'
import { startFakeWechat, type FakeWechat } from '../../testing/fake-wechat/index.js'

export const FAKE_WECHAT_USAGE = `wxmp fake-wechat [--port 8081] [--host 127.0.0.1] [--appid wx…] [--secret …] [--no-customer-service] [--publish-delay 1500] [--quiet]
  Runs a fake WeChat API server on loopback (tokens, menus, messages, users, media …) and
  logs every call; set WECHAT_API_BASE to the URL it prints. Steer it over HTTP under
  /__fake/ (GET calls|sent, POST inject|users|window|permissions|authorize|publish-outcome|
  mass-quota|revoke-tokens|reset).
  --no-customer-service plays an account without customer-service permission (an unverified
  订阅号): custom/send and custom/typing answer 48001.
  --publish-delay: ms a publish job stays "publishing".`

export interface FakeWechatCommandOptions {
  /** Stops the server (the CLI aborts on SIGINT/SIGTERM); default: those signals. */
  signal?: AbortSignal
  /** Called once the server listens (tests). */
  onReady?: (fake: FakeWechat) => void
}

export async function runFakeWechatCommand(argv: string[], print: (line: string) => void, options: FakeWechatCommandOptions = {}): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    print(FAKE_WECHAT_USAGE)
    return 0
  }
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      appid: { type: 'string' },
      secret: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'no-customer-service': { type: 'boolean', default: false },
      'publish-delay': { type: 'string', default: '1500' },
    },
    allowPositionals: true,
  })
  if (positionals.length > 0) {
    print(`wxmp: usage: ${FAKE_WECHAT_USAGE.split('\n')[0]}`)
    return 2
  }
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new WxmpError('WX_ERR_CONFIG', `--port must be a TCP port (0–65535), got ${JSON.stringify(values.port)}`)
  if (!/^\d{1,7}$/.test(values['publish-delay'])) throw new WxmpError('WX_ERR_CONFIG', `--publish-delay takes milliseconds, got ${JSON.stringify(values['publish-delay'])}`)
  const fake = await startFakeWechat({
    publishDelayMs: Number(values['publish-delay']),
    port: Number(values.port),
    host: values.host,
    ...(values.appid === undefined ? {} : { appId: values.appid }),
    ...(values.secret === undefined ? {} : { appSecret: values.secret }),
    ...(values['no-customer-service'] ? { customerService: false } : {}),
    onCall: values.quiet
      ? undefined
      : (call) => print(`${new Date(call.at).toISOString()} ${call.method} ${call.path} → ${call.errcode === undefined ? `HTTP ${call.status}` : `errcode ${call.errcode}`}${call.injected ? ' (injected)' : ''}`),
  })
  print(`fake WeChat API listening on ${fake.url}`)
  print(`  WECHAT_API_BASE=${fake.url} WECHAT_APPID=${fake.appId} WECHAT_APPSECRET=${fake.appSecret}`)
  print(`  control: ${fake.url}/__fake/ (calls, sent, inject, users, window, permissions, authorize, revoke-tokens, reset; docs/api.md)`)
  if (values['no-customer-service']) print('  account: no customer-service permission (custom/send and custom/typing answer 48001), like an unverified 订阅号')
  const signal = options.signal ?? signalFromProcess()
  options.onReady?.(fake)
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
  await fake.close()
  print('fake WeChat API stopped')
  return 0
}

function signalFromProcess(): AbortSignal {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller.signal
}
