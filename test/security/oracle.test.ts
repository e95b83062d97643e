/**
 * No decryption oracle, through the real server: with the Token alone anyone can sign a
 * ciphertext of their own, so every failure behind a valid msg_signature must look the same
 * from outside (status, headers, body), while the log line keeps the precise cause for the
 * operator and never carries decrypted text.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv, randomInt } from 'node:crypto'
import { decodeAesKey } from '../../src/pipeline/crypto.js'
import { sha1Sorted } from '../../src/pipeline/signature.js'
import { signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { AES_KEY, APP_ID, TOKEN, startSecurityServer, type SecurityServer } from './support.js'

let s: SecurityServer
const key = decodeAesKey(AES_KEY)

/** AES-256-CBC under the account's key with WeChat's IV, over a plaintext laid out by hand. */
function seal(msgLen: number, xml: string, tail: string, padByte?: number): string {
  const plain = Buffer.concat([Buffer.alloc(16, 9), Buffer.alloc(4), Buffer.from(xml + tail)])
  plain.writeUInt32BE(msgLen, 16)
  const pad = 32 - (plain.length % 32)
  return createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false).update(Buffer.concat([plain, Buffer.alloc(pad, padByte ?? pad)])).toString('base64')
}

/** POSTs `encrypt` as a safe-mode message with a correct signature and msg_signature (what the Token allows). */
async function signedCiphertext(encrypt: string): Promise<string> {
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = String(randomInt(1e8, 2e9))
  const query = new URLSearchParams({ signature: sha1Sorted([TOKEN, timestamp, nonce]), timestamp, nonce, openid: 'o', encrypt_type: 'aes', msg_signature: sha1Sorted([TOKEN, timestamp, nonce, encrypt]) })
  const res = await fetch(`${s.url}?${query}`, { method: 'POST', body: `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>` })
  const headers = [...res.headers].filter(([name]) => name !== 'date' && name !== 'keep-alive' && name !== 'connection')
  return `${res.status} ${JSON.stringify(headers)} ${await res.text()}`
}

describe('no decryption oracle (the real server)', () => {
  before(async () => {
    s = await startSecurityServer()
  })
  after(async () => {
    await s?.close()
  })

  test('padding, length field, UTF-8, AppID, base64 and the XML inside: one answer from outside, the cause in the log', async () => {
    const good = sampleXml('text', { Content: 'inner secret words' })
    const compact = '<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Content><![CDATA[inner-secret-words]]></Content></xml>'
    const cases: Array<[string, string]> = [
      ['WX_ERR_DECRYPT_PADDING', seal(Buffer.byteLength(good), good, APP_ID, 0)],
      ['WX_ERR_DECRYPT_PADDING', seal(Buffer.byteLength(good), good, APP_ID, 33)],
      ['WX_ERR_DECRYPT_BUFFER', seal(0x7fffffff, good, APP_ID)],
      ['WX_ERR_DECRYPT_BUFFER', seal(3, '\xff\xfe\xfd', APP_ID)],
      ['WX_ERR_APPID_MISMATCH', seal(Buffer.byteLength(good), good, 'wx0000000000000000')],
      ['WX_ERR_APPID_MISMATCH', seal(0, compact, APP_ID)],
      ['WX_ERR_DECRYPT_BASE64', 'AAAA!!!!'],
      ['WX_ERR_DECRYPT_BASE64', 'AAAA'],
      ['WX_ERR_XML_MALFORMED', seal(12, '<xml><ToUser', APP_ID)],
      ['WX_ERR_XML_DOCTYPE', seal(29, '<!DOCTYPE x [ ]><xml></xml>\n\n', APP_ID)],
      ['WX_ERR_MESSAGE_INVALID', seal(11, '<xml></xml>', APP_ID)],
    ]
    const answers = new Set<string>()
    for (const [reason, encrypt] of cases) {
      const from = s.lines.length
      answers.add(await signedCiphertext(encrypt))
      const line = s.lines.slice(from).find((l) => l.obj.code === 'WX_ERR_DECRYPT_FAILED')
      assert.equal(line?.obj.reason, reason, `${reason}: the log line names the cause (${JSON.stringify(line?.obj)})`)
      assert.equal(line?.level, 'warn')
    }
    assert.deepEqual([...answers], [`400 ${JSON.stringify([['content-length', '22'], ['content-type', 'text/plain; charset=utf-8']])} WX_ERR_DECRYPT_FAILED\n`])
    const metrics = await (await fetch(s.url.replace('/wechat', '/metrics'))).text()
    assert.match(metrics, /wxmp_decrypt_failures_total\{code="WX_ERR_DECRYPT_PADDING"\} 2/)
    assert.match(metrics, /wxmp_requests_total\{outcome="rejected",code="WX_ERR_DECRYPT_FAILED"\} 11/)
  })

  test('no decrypted content in any log line: a msg_len of 0 puts the whole message where the AppID belongs', async () => {
    const xml = '<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName><Content><![CDATA[my-bank-pin-is-4321]]></Content></xml>'
    await signedCiphertext(seal(0, xml, APP_ID))
    await signedCiphertext(seal(5, xml, APP_ID))
    const text = JSON.stringify(s.lines.filter((l) => l.level !== 'debug'))
    assert.ok(!text.includes('my-bank-pin'), 'decrypted text reached the log')
    assert.ok(!text.includes('<FromUserName>'), 'decrypted XML reached the log')
  })

  test('a genuine encrypted message is still answered', async () => {
    const req = signedRequest({ token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID, mode: 'safe', xml: sampleXml('text', { Content: 'fine' }) })
    const res = await fetch(s.url + req.search, { method: 'POST', body: req.body })
    assert.equal(res.status, 200)
  })
})
