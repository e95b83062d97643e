/**
 * The README's code, compiled by `npm run typecheck` so the documentation cannot drift from
 * the API. Nothing here runs.
 */
import { Bot, lateOptions, session, type Context, type SessionFlavor } from '../src/index.js'
import { serve } from '../src/adapters/node.js'
import { compileRules, rules } from '../src/index.js'
import { LiveRules, openRuleStore } from '../src/rules/index.js'
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

export async function repliesWithoutCode() {
  // rules first: a rule answers, "pass" and unmatched messages go on to the code
  const bot = new Bot({ token })
  bot.use(
    rules(
      await compileRules([
        { trigger: { type: 'follow' }, reply: { type: 'text', content: '欢迎关注！回复「价格」看看' } },
        { trigger: { type: 'keyword', contains: ['价格', '多少钱'] }, reply: { type: 'text', content: '价格表见菜单「服务」' } },
        { trigger: { type: 'keyword', exact: ['人工'] }, reply: { type: 'pass' } },
        { trigger: { type: 'default' }, reply: { type: 'text', content: '收到，我们会尽快回复' }, cooldownSec: 3600 },
      ]),
    ),
  )
  bot.hears('人工', (ctx) => ctx.transferToCustomerService())

  // code first: the rules, from the database, answer only what the code leaves
  const other = new Bot({ token, appId })
  const store = await openRuleStore(process.env.DATABASE_URL ?? 'sqlite:./data/wxmp.db', { appId })
  other.use(rules(await LiveRules.start(store), { order: 'code-first' }))
  other.hears(/^订单\s*\d+$/, (ctx) => ctx.reply('正在查询…'))
  await store.create({ trigger: { type: 'keyword', exact: ['营业时间'] }, reply: { type: 'text', content: '每天 9:00–21:00' } })
}
