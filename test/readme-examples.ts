/**
 * The README's code, compiled by `npm run typecheck` so the documentation cannot drift from
 * the API. Nothing here runs.
 */
import { Bot, lateOptions, session, type Context, type SessionFlavor } from '../src/index.js'
import { serve } from '../src/adapters/node.js'
import { readReply, sampleXml, signedRequest } from '../src/testing/index.js'

declare const token: string, appId: string, appSecret: string, encodingAESKey: string
declare const touser: string, template_id: string, data: Record<string, { value: string }>, openid: string, redirectUri: string, pageUrl: string
declare function askTheModel(text: string): Promise<string>

export async function library() {
  const bot = new Bot({ token, appId, appSecret, encodingAESKey })
  bot.on('event:subscribe', (ctx) => ctx.reply('欢迎关注'))
  bot.hears(/^help$/i, (ctx) => ctx.reply('…'))
  bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
  await serve(bot, { port: 3000, path: '/wechat' })

  const res = await bot.handle(signedRequest({ token: 't', xml: sampleXml('text', { Content: 'hi' }) }))
  return readReply(res, { token: 't' }).reply?.Content
}

export async function fiveSeconds() {
  const bot = new Bot({ token, appId, appSecret })
  bot.on('text', lateOptions({ interim: '🤔 正在思考…' }), async (ctx) => {
    const answer = await askTheModel(ctx.message.Content)
    await ctx.reply(answer)
  })
}

export async function theApi(bot: Bot) {
  bot.on('text', async (ctx) => {
    await ctx.api.customerService.sendText(ctx.openid, '订单已发货')
  })
  await bot.api.menu.create({ button: [{ type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' }] })
  const msgid: string = await bot.api.template.send({ touser, template_id, data })
  const user = await bot.api.user.info(openid)
  const { ticket } = await bot.api.qrcode.createTemporary({ sceneStr: 'promo' }, 3600)
  const url = bot.api.oauth.authorizeUrl({ redirectUri, scope: 'snsapi_base', state: 'x' })
  const config = await bot.api.jssdk.signature({ url: pageUrl })
  await bot.api.call('/cgi-bin/anything/else', { any: 'body' })
  return { msgid, user, ticket, url, config }
}

export function sessions() {
  type Ctx = Context & SessionFlavor<{ step: number }>
  const bot = new Bot<Ctx>({ token })
  bot.use(session({ initial: () => ({ step: 0 }) }))
  bot.on('text', (ctx) => ctx.reply(String(++ctx.session.step)))
}
