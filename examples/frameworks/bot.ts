/**
 * The bot the four framework examples mount: configuration from the environment (the same
 * variables as `wxmp serve`), a greeting on follow and an echo. Copy it into your project and
 * `npm i wxmp`.
 */
import { Bot } from 'wxmp'

export function createBot(env: NodeJS.ProcessEnv = process.env): Bot {
  const bot = new Bot({
    token: env.WECHAT_TOKEN ?? 'example-token',
    appId: env.WECHAT_APPID,
    appSecret: env.WECHAT_APPSECRET,
    encodingAESKey: env.WECHAT_AES_KEY,
  })
  bot.on('event:subscribe', (ctx) => ctx.reply('欢迎关注！'))
  bot.on('text', (ctx) => ctx.reply(`你说：${ctx.message.Content}`))
  return bot
}
