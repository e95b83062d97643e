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

/** Several accounts: one handler shared (ctx.account), the path table, the accounts file. */
export async function severalAccounts(): Promise<void> {
  const { mountAccounts } = await import('wxmp')
  const { loadAccounts, selectAccount } = await import('wxmp/accounts')
  const shared = (b: Bot) => b.on('text', (ctx) => ctx.reply(ctx.account === 'shop' ? '欢迎光临' : ctx.message.Content))
  const shop = new Bot({ token: 't1', account: 'shop' })
  const news = new Bot({ token: 't2', account: 'news' })
  shared(shop)
  shared(news)
  const server = await serve(mountAccounts([{ name: 'shop', path: '/wechat/shop', bot: shop }, { name: 'news', path: '/wechat/news', bot: news }]), { port: 0 })
  const { accounts, source } = await loadAccounts({ env: process.env })
  const one: string | undefined = source === 'file' ? selectAccount(accounts, 'shop').appId : undefined
  await server.close()
  void one
}
