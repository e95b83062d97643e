/**
 * The bot the black-box suites load with `wxmp serve --bot`: it writes what every handler saw
 * (the parsed message and the context's shortcuts) as one JSON line to $BLACKBOX_LOG, and
 * answers a text "reply:<kind> [argument]" with that kind of passive reply. Anything else gets
 * the text "ok".
 */
import { appendFileSync } from 'node:fs'
import type { Bot } from '../../src/bot.js'

export default function setup(bot: Bot): void {
  const log = process.env.BLACKBOX_LOG
  bot.use(async (ctx) => {
    const seen = { message: ctx.message, openid: ctx.openid, msgId: ctx.msgId, event: ctx.event, eventKey: ctx.eventKey, scene: ctx.scene, text: ctx.text }
    if (log !== undefined) appendFileSync(log, JSON.stringify(seen) + '\n')
    const command = /^reply:(\w+)(?: ([\s\S]*))?$/.exec(ctx.text ?? '')
    if (command === null) return ctx.message.MsgType === 'event' && ctx.event !== 'subscribe' && ctx.event !== 'CLICK' ? ctx.noReply() : ctx.reply('ok')
    const argument = command[2] ?? ''
    switch (command[1]) {
      case 'text':
        return ctx.reply(argument)
      case 'controls':
        return ctx.reply('a\u0001b\u0008c\u000Bd\uFFFEe\uD800f\tg\nh]]>i')
      case 'image':
        return ctx.replyImage(argument)
      case 'voice':
        return ctx.replyVoice(argument)
      case 'video':
        return ctx.replyVideo(argument, { title: 'T]]>itle', description: '说明' })
      case 'music':
        return ctx.replyMusic({ thumbMediaId: argument, title: 'Song', description: 'Desc', musicUrl: 'http://example.com/a.mp3', hqMusicUrl: 'http://example.com/hq.mp3' })
      case 'news':
        return ctx.replyNews({ title: 'title1', description: 'description1', picUrl: 'http://example.com/p.jpg', url: 'http://example.com/' })
      case 'news2':
        return ctx.replyNews([{ title: 'a' }, { title: 'b' }])
      case 'transfer':
        return ctx.transferToCustomerService(argument === '' ? undefined : argument)
      case 'success':
        return ctx.noReply()
      case 'throw':
        throw new Error('the handler failed')
      case 'sleep':
        await new Promise((resolve) => setTimeout(resolve, Number(argument)))
        return ctx.reply(`slept ${argument}`)
      case 'long':
        return ctx.reply('这是一句很长的回答。'.repeat(Number(argument)))
      default:
        return ctx.reply(`unknown command ${command[1]}`)
    }
  })
}
