/**
 * examples/llm-bot.ts does what its comment promises: a quick answer is passive; a slow one
 * gets the interim at the deadline and arrives through customer service; a long one goes in
 * parts within the 5-message quota; voice answers at once with replyLater. The model is a
 * gate the test opens, so "slow" means "after WeChat was answered", never a duration.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
// the example imports the package by name, as a user's project does: so does its test
import { Bot } from 'wxmp'
import { readReply, sampleXml, signedRequest } from 'wxmp/testing'
import { llmBot, splitForWeChat, type Model } from '../../examples/llm-bot.js'
import { FakeSender, gate, memoryLogger } from './support.js'

const token = 'llmexample'

/** A model whose answers wait for the test (when `held`) and echo the prompt. */
function heldModel(answer: (prompt: string) => string = (p) => `answer to ${p}`) {
  const release = gate()
  let held = false
  const model: Model = {
    async complete(prompt) {
      if (held) await release.promise
      return answer(prompt)
    },
  }
  return { model, hold: () => (held = true), release: release.open }
}

function exampleBot(model: Model) {
  const sender = new FakeSender()
  const bot = new Bot({ token, appId: 'wxllmexample00001', logger: memoryLogger(), replyTimeoutMs: 50 })
  bot.setApiFactory(() => sender)
  llmBot(bot, model)
  return { bot, sender }
}

const texts = (sender: FakeSender) => sender.sends().map((r) => (r as { content: string }).content)

describe('the LLM example', () => {
  test('a quick answer is the passive reply', async () => {
    const { model } = heldModel()
    const { bot, sender } = exampleBot(model)
    const res = await bot.handle(signedRequest({ token, xml: sampleXml('text', { Content: '你好' }) }))
    assert.equal(readReply(res, { token }).reply?.Content, 'answer to 你好')
    assert.deepEqual(sender.sends(), [])
  })

  test('a slow answer: the interim at the deadline, "typing…", then the answer through customer service', async () => {
    const { model, hold, release } = heldModel()
    hold()
    const { bot, sender } = exampleBot(model)
    const res = await bot.handle(signedRequest({ token, xml: sampleXml('text', { Content: '量子计算是什么' }) }))
    assert.equal(readReply(res, { token }).reply?.Content, '🤔 正在思考，请稍候…')
    release()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(texts(sender), ['answer to 量子计算是什么'])
  })

  test('a long answer goes in parts, at most 5 messages, each within 2000 bytes', async () => {
    const long = '长'.repeat(4000) // 12 000 bytes: 7 parts, cut to 5
    const { model, hold, release } = heldModel(() => long)
    hold()
    const { bot, sender } = exampleBot(model)
    await bot.handle(signedRequest({ token, xml: sampleXml('text', { Content: 'tell me everything' }) }))
    release()
    assert.ok(await bot.drain(5000))
    const parts = texts(sender)
    assert.equal(parts.length, 5)
    assert.ok(parts.every((p) => Buffer.byteLength(p) <= 2000))
    assert.ok(parts[4]!.endsWith('…'))
  })

  test('voice answers at once with replyLater and the answer follows', async () => {
    const { model, hold, release } = heldModel()
    hold()
    const { bot, sender } = exampleBot(model)
    const res = await bot.handle(signedRequest({ token, xml: sampleXml('voice', { Recognition: '明天天气' }) }))
    assert.match(String(readReply(res, { token }).reply?.Content), /收到：「明天天气」/)
    release()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(texts(sender), ['answer to 明天天气'])
  })

  test('splitForWeChat never cuts a character, keeps short text whole, and survives empty text', () => {
    assert.deepEqual(splitForWeChat('short'), ['short'])
    assert.deepEqual(splitForWeChat(''), [''])
    const emoji = '😀'.repeat(10) // 4 bytes each: exactly 5 parts of 2
    assert.deepEqual(splitForWeChat(emoji, 9), ['😀😀', '😀😀', '😀😀', '😀😀', '😀😀'])
    const parts = splitForWeChat(emoji + '😀', 9) // a 6th part: the 5th ends with "…"
    assert.deepEqual(parts, ['😀😀', '😀😀', '😀😀', '😀😀', '😀…'])
    const ascii = splitForWeChat('a'.repeat(51), 10)
    assert.equal(ascii.at(-1), 'aaaaaaa…', 'the ellipsis still fits in the byte limit')
    assert.ok([...parts, ...ascii].every((p) => Buffer.byteLength(p) <= 10))
  })
})
