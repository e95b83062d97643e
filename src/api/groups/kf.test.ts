import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'

let fake: FakeWechat
let api: WechatApi
const errcode = (code: number) => (err: unknown) => err instanceof WechatApiError && err.errcode === code
const AGENT = 'support1@myaccount'
const USER = 'oKfUser000000001'

describe('api.kf', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('agents: add, update, invite, avatar, list, delete', async () => {
    await api.kf.addAccount(AGENT, '小助手')
    await assert.rejects(api.kf.addAccount(AGENT, '小助手'), errcode(65406))
    await api.kf.updateAccount(AGENT, '客服一号')
    await api.kf.inviteWorker(AGENT, 'wx_agent_01')
    await assert.rejects(api.kf.inviteWorker(AGENT, 'wx_agent_01'), errcode(65408))
    await api.kf.uploadAvatar(AGENT, Buffer.from([0xff, 0xd8, 0xff, 1, 2]), 'me.jpg')
    const [agent] = await api.kf.listAccounts()
    assert.equal(agent?.kf_nick, '客服一号')
    assert.equal(agent?.invite_wx, 'wx_agent_01')
    assert.match(agent?.kf_headimgurl ?? '', /^http/)
    assert.deepEqual(await api.kf.onlineAccounts(), [])
    await api.kf.deleteAccount(AGENT)
    await assert.rejects(api.kf.deleteAccount(AGENT), errcode(65401))
  })

  test('sessions: waiting users, create, who serves whom, close', async () => {
    await api.kf.addAccount(AGENT, '小助手')
    fake.addWaitingUser(USER)
    assert.equal((await api.kf.waitCase()).count, 1)
    await api.kf.createSession(AGENT, USER)
    assert.equal((await api.kf.waitCase()).count, 0)
    await assert.rejects(api.kf.createSession(AGENT, USER), errcode(65414))
    assert.equal((await api.kf.sessionOf(USER)).kf_account, AGENT)
    assert.deepEqual((await api.kf.sessionsOf(AGENT)).map((s) => s.openid), [USER])
    await api.kf.closeSession(AGENT, USER)
    assert.equal((await api.kf.sessionOf(USER)).kf_account, '')
    await assert.rejects(api.kf.closeSession(AGENT, USER), errcode(65413))
    await assert.rejects(api.kf.createSession('ghost@myaccount', USER), errcode(65401))
  })

  test('message records list the customer-service messages of a day', async () => {
    const start = Math.floor(Date.now() / 1000) - 60
    await api.customerService.sendText(USER, '您好', { kfAccount: AGENT })
    const { recordlist, number } = await api.kf.messageRecords({ startTime: start, endTime: start + 3600 })
    assert.equal(number, 1)
    assert.deepEqual(recordlist.map((r) => [r.openid, r.text, r.worker]), [[USER, '您好', AGENT]])
  })

  test('names and ranges are checked before sending', async () => {
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    await assert.rejects(api.kf.addAccount('no-at-sign', 'x'), input)
    await assert.rejects(api.kf.addAccount('toolongname1@acc', 'x'), input)
    await assert.rejects(api.kf.addAccount(AGENT, '一二三四五六七八九十一二三四五六七'), input)
    await assert.rejects(api.kf.messageRecords({ startTime: 1000, endTime: 1000 + 86_401 }), input)
    await assert.rejects(api.kf.uploadAvatar(AGENT, Buffer.from('x'), 'me.png'), input)
    assert.equal(fake.calls.length, 0)
  })
})
