/**
 * wxmp on Koa. Put it before koa-bodyparser (it reads the raw body itself).
 *   npm i wxmp koa && npx tsx koa.ts
 *   npx wxmp simulate --url http://127.0.0.1:3000/wechat --token example-token text 你好
 */
import Koa from 'koa'
import { wechatKoa } from 'wxmp/koa'
import type { Bot } from 'wxmp'
import { createBot } from './bot.js'

export function createApp(bot: Bot): Koa {
  const app = new Koa()
  app.use(wechatKoa(bot, { path: '/wechat' }))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000)
  createApp(createBot()).listen(port, () => console.log(`Koa: http://127.0.0.1:${port}/wechat`))
}
