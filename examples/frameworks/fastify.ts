/**
 * wxmp on Fastify (4 or 5): a plugin that takes the webhook path with its own raw-body parser.
 *   npm i wxmp fastify && npx tsx fastify.ts
 *   npx wxmp simulate --url http://127.0.0.1:3000/wechat --token example-token text 你好
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { wechatFastify } from 'wxmp/fastify'
import type { Bot } from 'wxmp'
import { createBot } from './bot.js'

export async function createApp(bot: Bot): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(wechatFastify(bot, { path: '/wechat' }))
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 3000)
  const app = await createApp(createBot())
  await app.listen({ port, host: '0.0.0.0' })
  console.log(`Fastify: http://127.0.0.1:${port}/wechat`)
}
