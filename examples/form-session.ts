/**
 * A two-question form with sessions: the bot asks for a name, then a city, then confirms.
 * Run: npx wxmp serve --bot examples/form-session.ts (TypeScript loads through tsx), then
 * in another terminal: npx wxmp simulate text 报名
 */
import { Bot, session, type Context, type SessionFlavor } from 'wxmp'

interface Form {
  step: 'idle' | 'name' | 'city'
  name?: string
}
export type FormContext = Context & SessionFlavor<Form>

export function formBot(bot: Bot<FormContext>): void {
  bot.use(session<Form, FormContext>({ initial: () => ({ step: 'idle' }), ttlMs: 10 * 60_000 }))
  bot.hears('报名', (ctx) => {
    ctx.session = { step: 'name' }
    return ctx.reply('请问您的姓名？')
  })
  bot.on('text', (ctx) => {
    const form = ctx.session
    if (form.step === 'name') {
      ctx.session = { step: 'city', name: ctx.message.Content.trim() }
      return ctx.reply(`${ctx.session.name}，您在哪个城市？`)
    }
    if (form.step === 'city') {
      const city = ctx.message.Content.trim()
      ctx.session = { step: 'idle' }
      return ctx.reply(`已登记：${form.name}，${city}。谢谢！`)
    }
    return ctx.reply('发送「报名」开始登记。')
  })
}

export default formBot
