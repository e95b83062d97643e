/**
 * Test fixture for API tests: one fake WeChat server per describe block, reset before every
 * test, with a fresh WechatApi pointed at it. Call inside `describe`. An injected clock
 * (`options.now`) drives both the fake and the client.
 *
 * @example
 * let fake: FakeWechat, api: WechatApi
 * describe('api.menu', () => { useFakeWechat((f, a) => ((fake = f), (api = a))) … })
 */
import { after, before, beforeEach } from 'node:test'
import { WechatApi } from '../../src/api/client.js'
import { startFakeWechat, type FakeWechat, type FakeWechatOptions } from '../../src/testing/fake-wechat/index.js'

export function useFakeWechat(use: (fake: FakeWechat, api: WechatApi) => void, options: FakeWechatOptions = {}): void {
  let fake: FakeWechat | undefined
  before(async () => {
    fake = await startFakeWechat(options)
  })
  after(async () => {
    await fake?.close()
  })
  beforeEach(() => {
    fake!.reset()
    use(fake!, new WechatApi({ appId: fake!.appId, appSecret: fake!.appSecret, baseUrl: fake!.url, ...(options.now === undefined ? {} : { now: options.now }) }))
  })
}
