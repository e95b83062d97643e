/**
 * What a user's TypeScript project writes, compiled with exactOptionalPropertyTypes (see
 * tsconfig.json beside it): options straight from process.env (string | undefined) are
 * accepted, and readReply's elements need no cast. Nothing here runs.
 */
import { Bot, type BotOptions } from 'wxmp'
import { serve } from 'wxmp/node'
import { readReply, sampleXml, signedRequest } from 'wxmp/testing'

const bot = new Bot({
  token: process.env.WECHAT_TOKEN ?? 'dev',
  appId: process.env.WECHAT_APPID,
  appSecret: process.env.WECHAT_APPSECRET,
  encodingAESKey: process.env.WECHAT_AES_KEY,
  interim: process.env.WECHAT_INTERIM,
})
const options: BotOptions = { token: 't', previousEncodingAESKey: undefined, logger: undefined, now: undefined }
bot.on('image', (ctx) => ctx.replyImage(ctx.message.MediaId))

export async function check(): Promise<string> {
  const response = await bot.handle(signedRequest({ token: 't', xml: sampleXml('image', { MediaId: 'm' }) }))
  const { reply } = readReply(response, { token: 't' })
  const mediaId: string | undefined = reply?.Image?.MediaId
  const content: string | undefined = reply?.Content
  const server = await serve(bot, { port: 0, path: '/wechat', drainOnSignals: { drainMs: 5000 } })
  await server.close({ drainMs: 1000 })
  return `${mediaId ?? ''}${content ?? ''}${options.token}`
}
