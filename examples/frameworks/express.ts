/**
 * wxmp on Express (4 or 5). Mount it before any body parser: it needs the raw body.
 *   npm i wxmp express && npx tsx express.ts
 *   npx wxmp simulate --url http://127.0.0.1:3000/wechat --token example-token text 你好
 */
import express from 'express'
import { wechatExpress } from 'wxmp/express'
import type { Bot } from 'wxmp'
import { createBot } from './bot.js'

export function createApp(bot: Bot): express.Express {
  const app = express()
  app.all('/wechat', wechatExpress(bot))
  app.use(express.json()) // the rest of your app's routes may parse bodies as usual
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000)
  createApp(createBot()).listen(port, () => console.log(`Express: http://127.0.0.1:${port}/wechat`))
}
