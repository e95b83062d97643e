/**
 * The fake WeChat for several accounts at one address, as the real api.weixin.qq.com serves
 * every AppID: each account has its own fake (its own tokens, followers, permissions, faults);
 * a token fetch goes to the fake of its `appid`, every other call to the fake that issued its
 * `access_token`. An unknown AppID or token goes to the first fake, which answers as WeChat
 * does (40013, 40001/40014).
 *
 * @example
 * const fake = await startFakeWechatApps([{ appId: 'wx…1', appSecret: 's1' }, { appId: 'wx…2', appSecret: 's2', customerService: false }])
 * // WECHAT_API_BASE=fake.url for every account; fake.app('wx…2').tokenFetches()
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startFakeWechat, type FakeWechat, type FakeWechatOptions } from './index.js'

export interface FakeWechatApps {
  /** `http://127.0.0.1:<port>`: the WECHAT_API_BASE of every account. */
  url: string
  /** The fakes, in the order given. */
  apps: FakeWechat[]
  /** One account's fake by AppID (throws for an AppID it does not serve). */
  app(appId: string): FakeWechat
  /**
   * An outage of one account: its calls (token fetches included) hang until the returned
   * function is called, while the other accounts' calls are answered.
   */
  hold(appId: string): () => void
  close(): Promise<void>
}

export async function startFakeWechatApps(apps: Array<Omit<FakeWechatOptions, 'port' | 'host'> & { appId: string; appSecret: string }>, options: { port?: number; host?: string } = {}): Promise<FakeWechatApps> {
  if (apps.length === 0) throw new RangeError('startFakeWechatApps: give at least one account')
  const fakes = await Promise.all(apps.map((app) => startFakeWechat(app)))
  const byAppId = new Map(fakes.map((fake) => [fake.appId, fake]))
  const first = fakes[0]!
  const held = new Map<FakeWechat, Promise<void>>()
  const releasers = new Set<() => void>()
  const releases = () => [...releasers]
  const pick = (query: URLSearchParams, body: Buffer): FakeWechat => {
    const token = query.get('access_token')
    if (token !== null) return fakes.find((fake) => fake.state.tokens.has(token)) ?? first
    let appid = query.get('appid')
    if (appid === null && body.length > 0) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { appid?: unknown }
        if (typeof parsed.appid === 'string') appid = parsed.appid
      } catch {
        // not JSON: the first fake answers it
      }
    }
    return (appid === null ? undefined : byAppId.get(appid)) ?? first
  }
  const server = createServer((req, res) => {
    void forward(req).then(
      ({ status, headers, body }) => {
        res.writeHead(status, headers)
        res.end(body)
      },
      () => res.destroy(),
    )
  })
  async function forward(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const url = new URL(req.url ?? '/', 'http://fake.invalid')
    const target = pick(url.searchParams, body)
    await held.get(target)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'connection' && name !== 'content-length') headers[name] = value
    const answer = await fetch(`${target.url}${url.pathname}${url.search}`, {
      method: req.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
    })
    const out: Record<string, string> = {}
    answer.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection' && name !== 'keep-alive') out[name] = value
    })
    return { status: answer.status, headers: out, body: Buffer.from(await answer.arrayBuffer()) }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const app = (appId: string): FakeWechat => {
    const fake = byAppId.get(appId)
    if (fake === undefined) throw new RangeError(`startFakeWechatApps: no account ${appId} (serving ${[...byAppId.keys()].join(', ')})`)
    return fake
  }
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    apps: fakes,
    app,
    hold(appId) {
      const fake = app(appId)
      let release!: () => void
      held.set(fake, new Promise<void>((resolve) => (release = resolve)))
      const done = () => {
        held.delete(fake)
        releasers.delete(done)
        release()
      }
      releasers.add(done)
      return done
    },
    async close() {
      for (const release of releases()) release()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await Promise.all(fakes.map((fake) => fake.close()))
    },
  }
}
