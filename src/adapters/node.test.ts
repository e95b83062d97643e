import { describe } from 'node:test'
import { serve, webhookCallback } from './node.js'
import { adapterSuite, listen } from '../../test/support/adapter-suite.js'

describe('node:http: http.createServer(webhookCallback(bot))', () => {
  adapterSuite(async (bot) => listen(webhookCallback(bot)), { path: '/wechat', allMethods: true, remoteAddress: /127\.0\.0\.1/ })
})

describe("node:http: serve(bot, { path: '/wechat' })", () => {
  adapterSuite(
    async (bot) => {
      const running = await serve(bot, { port: 0, host: '127.0.0.1' })
      return { port: running.port, fetch: (path, init) => fetch(`http://127.0.0.1:${running.port}${path}`, init), close: () => running.close() }
    },
    { path: '/wechat', allMethods: true, remoteAddress: /127\.0\.0\.1/ },
  )
})
