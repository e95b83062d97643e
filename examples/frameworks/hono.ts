/**
 * wxmp on Hono: the fetch adapter turns a Request into a Response, so the same app runs on
 * Node (@hono/node-server), Bun, Deno and Workers.
 *   npm i wxmp hono @hono/node-server
 *   import { serve } from '@hono/node-server'; serve({ fetch: app.fetch, port: 3000 })
 *   npx wxmp simulate --url http://127.0.0.1:3000/wechat --token example-token text 你好
 */
import { Hono } from 'hono'
import { wechatFetch } from 'wxmp/fetch'
import type { Bot } from 'wxmp'
import { createBot } from './bot.js'

export function createApp(bot: Bot): Hono {
  const app = new Hono()
  const webhook = wechatFetch(bot)
  app.all('/wechat', (c) => webhook(c.req.raw))
  app.get('/', (c) => c.text('ok'))
  return app
}

export default createApp(createBot())
