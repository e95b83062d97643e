/**
 * An LLM-style bot: an answer takes anywhere from half a second to twenty, and WeChat waits
 * only five. wxmp answers every delivery in time and gets the answer to the user anyway:
 * - in time → the answer is the passive reply;
 * - too slow → at the deadline WeChat gets the interim text ("正在思考…") and, while the model
 *   works, the user sees "typing…"; the answer follows as a customer-service message;
 * - long answers are split into parts (at most 5 messages per user message, WeChat's quota);
 * - voice: `ctx.replyLater()` answers at once, since transcription plus the model is never fast.
 *
 * Run it against the fake WeChat server on one machine:
 *   npx wxmp fake-wechat                     # prints its URL, AppID and AppSecret
 *   WECHAT_API_BASE=<url> WECHAT_APPID=<appid> WECHAT_APPSECRET=<secret> \
 *     npx wxmp serve --bot examples/llm-bot.ts
 *   npx wxmp simulate text 你好                              # quick: a passive reply
 *   npx wxmp simulate text 请详细解释一下量子计算的基本原理    # slow: interim, then customer service
 * With a real model, pass `llmBot(bot, { complete: (prompt) => yourClient.chat(prompt) })`.
 */
import type { Bot, Context } from 'wxmp'
import { lateOptions } from 'wxmp'

/** Anything that turns a prompt into an answer (an LLM client, a search service…). */
export interface Model {
  complete(prompt: string): Promise<string>
}

/**
 * A stand-in for a real model: it "thinks" 400 ms per character of the question (at most
 * 20 s), so short questions are answered in time and long ones are not.
 */
export function pretendModel(options: { msPerChar?: number; maxMs?: number } = {}): Model {
  const msPerChar = options.msPerChar ?? 400
  const maxMs = options.maxMs ?? 20_000
  return {
    async complete(prompt) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(maxMs, [...prompt].length * msPerChar)))
      return `关于「${prompt}」：这是模型想了 ${Math.min(maxMs, [...prompt].length * msPerChar) / 1000} 秒之后的回答。`
    },
  }
}

/** WeChat shows up to about 2048 bytes of text per message; a longer answer goes in parts. */
const PART_BYTES = 2000
/** Customer-service messages one user message allows (the late reply included). */
const MAX_PARTS = 5

/** Splits text into parts of at most `maxBytes` UTF-8 bytes, never inside a character. */
export function splitForWeChat(text: string, maxBytes = PART_BYTES, maxParts = MAX_PARTS): string[] {
  const parts: string[] = []
  let current = ''
  for (const char of text) {
    if (Buffer.byteLength(current + char) > maxBytes) {
      parts.push(current)
      current = ''
    }
    current += char
  }
  if (current !== '' || parts.length === 0) parts.push(current)
  if (parts.length <= maxParts) return parts
  // too long even in parts: end the last one with "…" (3 bytes), still within maxBytes
  const kept = parts.slice(0, maxParts)
  const last = [...kept[maxParts - 1]!]
  while (last.length > 0 && Buffer.byteLength(last.join('') + '…') > maxBytes) last.pop()
  kept[maxParts - 1] = last.join('') + '…'
  return kept
}

/** Sends all parts but the last with ctx.send, and the last as the reply (passive if still in time). */
async function answerInParts(ctx: Context, answer: string): Promise<void> {
  const parts = splitForWeChat(answer)
  for (const part of parts.slice(0, -1)) {
    const { status } = await ctx.send(part)
    if (status !== 'sent') return // out of window, quota, no permission: logged already, stop here
  }
  await ctx.reply(parts.at(-1)!)
}

export function llmBot(bot: Bot, model: Model = pretendModel()): void {
  bot.hears(/^(帮助|help)$/i, (ctx) => ctx.reply('直接提问即可。回答较慢时我会先回复「正在思考」，想好后再发给你。'))

  // every text question: the interim at the deadline, "typing…" after half a second
  bot.on('text', lateOptions({ interim: '🤔 正在思考，请稍候…', typingAfterMs: 500 }), async (ctx) => {
    const answer = await model.complete(ctx.message.Content.trim())
    await answerInParts(ctx, answer)
  })

  // voice is never quick: say so at once instead of waiting for the deadline
  bot.on('voice', async (ctx) => {
    const question = String(ctx.message.Recognition ?? '').trim() // WeChat's speech recognition, when the account has it on
    if (question === '') return ctx.reply('没听清，请再说一遍或改用文字。')
    ctx.replyLater(`🎙️ 收到：「${question}」，正在思考…`)
    await answerInParts(ctx, await model.complete(question))
  })
}

export default llmBot
