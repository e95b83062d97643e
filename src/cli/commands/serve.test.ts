import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../server/config.js'
import { startServer } from '../../server/app.js'
import { runSimulateCommand } from './simulate.js'
import { runServeCommand, tryIt } from './serve.js'
import { createLogger } from '../../logger.js'

const quiet = createLogger({ level: 'silent' })

const dir = mkdtempSync(join(tmpdir(), 'wxmp-serve-cmd-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('the banner’s Try it line targets the port and path the server listens on, and works as printed', async () => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', WECHAT_PATH: '/from-env', DATABASE_URL: 'memory:', WXMP_LOG_LEVEL: 'silent' }, { cwd: dir, dotenv: false })
  const banner: string[] = []
  const { server } = await runServeCommand(['--path', '/wx'], config, (l) => banner.push(l))
  try {
    const line = banner.find((l) => l.includes('Try it'))!
    assert.ok(line.includes(`--url http://127.0.0.1:${server.http.port}/wx `), line)
    // run the printed command: it reaches this server and the echo bot answers
    const words = line.slice(line.indexOf('npx wxmp simulate') + 'npx wxmp simulate'.length).trim().split(/\s+/)
    const out: string[] = []
    assert.equal(await runSimulateCommand(words, config, (l) => out.push(l)), 0, out.join('\n'))
    assert.ok(out.some((l) => l.includes('你好')), out.join('\n'))
  } finally {
    await server.close()
  }
})

test('on the default port and path the Try it line is the short one', () => {
  assert.equal(tryIt('http://127.0.0.1:3000/wechat'), 'npx wxmp simulate text 你好')
  assert.equal(tryIt('http://127.0.0.1:3456/wechat'), 'npx wxmp simulate --url http://127.0.0.1:3456/wechat text 你好')
})

test('development: no error-coded log line before the banner; the banner says what is off', async () => {
  // the default (late: auto) carries slow replies without the API: nothing to say
  const byDefault = await startServer({ config: loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'memory:', WXMP_LOG_LEVEL: 'silent' }, { cwd: dir, dotenv: false }), logger: quiet })
  await byDefault.close()
  assert.equal(byDefault.lateReplyProblem, undefined)
  // pinned to customer service without WECHAT_APPID: late replies could not go out
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'memory:', WXMP_LOG_LEVEL: 'silent', WECHAT_LATE_REPLY: 'customer-service' }, { cwd: dir, dotenv: false })
  assert.ok(config.dev)
  const logged: object[] = []
  const logger = { debug: () => {}, info: (o: object) => logged.push(o), warn: (o: object) => logged.push(o), error: (o: object) => logged.push(o), child: () => logger }
  const server = await startServer({ config, logger })
  await server.close()
  assert.deepEqual(logged.filter((o) => (o as { code?: string }).code === 'WX_ERR_CONFIG'), [], 'no WX_ERR_CONFIG line in development')
  assert.ok(server.lateReplyProblem !== undefined)
  // in production the same state is a warning
  const production = { ...config, dev: false }
  const prodServer = await startServer({ config: production, logger })
  await prodServer.close()
  assert.equal(logged.filter((o) => (o as { code?: string }).code === 'WX_ERR_CONFIG').length, 1)
  const banner: string[] = []
  const { server: shown } = await runServeCommand([], config, (l) => banner.push(l))
  await shown.close()
  assert.ok(banner.some((l) => l.includes('Slow replies') && l.includes('WECHAT_APPID')), banner.join('\n'))
})
