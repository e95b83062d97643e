import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../src/bot.js'
import { readReply, signedRequest } from '../src/testing/signed-request.js'
import { sampleXml } from '../src/testing/samples.js'
import { formBot, type FormContext } from '../examples/form-session.js'

const token = 'exampletoken'
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

test('the two-question form example walks a user through both questions', async () => {
  const bot = new Bot<FormContext>({ token, logger: quiet })
  formBot(bot)
  const say = async (text: string, openid = 'oForm') =>
    readReply(await bot.handle(signedRequest({ token, xml: sampleXml('text', { Content: text }, { openid }) })), { token }).reply?.Content
  assert.equal(await say('你好'), '发送「报名」开始登记。')
  assert.equal(await say('报名'), '请问您的姓名？')
  assert.equal(await say('张三', 'oOther'), '发送「报名」开始登记。')
  assert.equal(await say('张三'), '张三，您在哪个城市？')
  assert.equal(await say('广州'), '已登记：张三，广州。谢谢！')
  assert.equal(await say('再来'), '发送「报名」开始登记。')
})
