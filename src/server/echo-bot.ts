import type { Bot } from '../bot.js'
import type { Context } from '../context.js'

/**
 * The default bot of `npm start`: the tutorial's 复读机, done for every type. Text comes back
 * as text; images and voice come back as themselves (their MediaId is valid for replies);
 * the rest is described in words; events get a short answer where a reply makes sense.
 */
export function installEchoBot<C extends Context>(bot: Bot<C>): void {
  bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
  bot.on('image', (ctx) => ctx.replyImage(ctx.message.MediaId))
  bot.on('voice', (ctx) => ctx.replyVoice(ctx.message.MediaId))
  bot.on(['video', 'shortvideo'], (ctx) => ctx.reply(`收到视频 (MediaId ${ctx.message.MediaId})`))
  bot.on('location', (ctx) => ctx.reply(`你的位置: ${ctx.message.Location_X}, ${ctx.message.Location_Y}${ctx.message.Label ? ` ${ctx.message.Label}` : ''}`))
  bot.on('link', (ctx) => ctx.reply(`${ctx.message.Title ?? ''} ${ctx.message.Url}`.trim()))
  bot.on('event:subscribe', (ctx) => ctx.reply(ctx.scene === undefined ? '欢迎关注！发什么我就回什么。' : `欢迎关注！(场景 ${ctx.scene})`))
  bot.on('event:SCAN', (ctx) => ctx.reply(`扫码场景 ${ctx.message.EventKey}`))
  bot.on('event:CLICK', (ctx) => ctx.reply(`你点击了 ${ctx.message.EventKey}`))
  bot.on(['event:scancode_waitmsg', 'event:scancode_push'], (ctx) => ctx.reply(`扫码结果: ${ctx.message.ScanCodeInfo.ScanResult}`))
  bot.on('event:location_select', (ctx) => ctx.reply(`你选择了位置: ${ctx.message.SendLocationInfo.Label ?? ''}`.trim()))
}
