/**
 * Compile-time checks, run by `npm run typecheck` (part of `npm test`): the typed filters and
 * message types accept what WeChat sends and reject typos. Nothing here runs.
 */
import { Bot, type MessageOf } from '../src/index.js'

declare const bot: Bot

bot.on('event:CLICK', (ctx) => {
  const key: string = ctx.message.EventKey
  return ctx.reply(key)
})
bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
bot.on('location', (ctx) => ctx.reply(String(ctx.message.Location_X + ctx.message.Location_Y)))
bot.on('event:scancode_waitmsg', (ctx) => ctx.reply(ctx.message.ScanCodeInfo.ScanResult))
bot.on('event:pic_weixin', (ctx) => ctx.reply(ctx.message.SendPicsInfo.PicList.map((p) => p.PicMd5Sum).join()))
bot.on('event:TEMPLATESENDJOBFINISH', (ctx) => {
  const id: string = ctx.message.MsgID // 64-bit ids are strings
  return ctx.reply(id)
})
bot.on(['image', 'voice'], (ctx) => ctx.replyImage(ctx.message.MediaId))

// @ts-expect-error a typo in an event name does not compile
bot.on('event:click', () => {})
// @ts-expect-error an unknown message type does not compile
bot.on('file', () => {})
bot.on('text', (ctx) => {
  // @ts-expect-error text messages have no EventKey
  return ctx.message.EventKey
})

const voice: MessageOf<'voice'> = { ToUserName: 'gh', FromUserName: 'o', CreateTime: 1, MsgType: 'voice', MediaId: 'm', Recognition: 'hello' }
const recognition: string | undefined = voice.Recognition
// @ts-expect-error optional fields keep their type
const wrong: MessageOf<'voice'> = { ...voice, Recognition: 5 }
// @ts-expect-error CreateTime is a number
const wrongTime: MessageOf<'text'> = { ToUserName: 'gh', FromUserName: 'o', CreateTime: '1', MsgType: 'text', Content: 'x' }

export { recognition, wrong, wrongTime }
