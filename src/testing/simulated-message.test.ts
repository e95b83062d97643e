import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWxmpError } from '../errors.js'
import { parseMessage } from '../messages/parse.js'
import { parseXml } from '../xml/parse.js'
import { sampleXml } from './samples.js'
import { buildSimulatedMessage } from './simulator.js'

describe('buildSimulatedMessage: command-line words to WeChat fields', () => {
  const opts = { openid: 'oWords', account: 'gh_words' }
  const parsed = (kind: string, args: string[]) => {
    const msg = buildSimulatedMessage(kind, args, opts)
    return { msg, doc: parseXml(msg.xml), typed: parseMessage(msg.xml) as unknown as Record<string, unknown> }
  }

  test('text: the words are the Content (hostile text survives intact)', () => {
    const { msg, typed } = parsed('text', ['你好', ']]><x>&'])
    assert.equal(msg.kind, 'text')
    assert.equal(typed.Content, '你好 ]]><x>&')
    assert.equal(typed.FromUserName, 'oWords')
    assert.equal(typed.ToUserName, 'gh_words')
    assert.match(String(typed.MsgId), /^\d+$/)
  })

  test('event subscribe without a scene: empty EventKey, no Ticket', () => {
    const { doc } = parsed('event', ['subscribe'])
    assert.equal(doc.Event, 'subscribe')
    assert.equal(doc.EventKey, '')
    assert.equal(doc.Ticket, undefined)
  })

  test('event subscribe with a scene: EventKey qrscene_<scene> and a Ticket', () => {
    const { doc, msg } = parsed('event', ['subscribe', '42'])
    assert.equal(doc.EventKey, 'qrscene_42')
    assert.match(String(doc.Ticket), /^gQ/)
    assert.equal(msg.label, 'event subscribe (scene 42)')
  })

  test('event SCAN: the scene without prefix, and a Ticket; a scene is required', () => {
    const { doc } = parsed('event', ['SCAN', 'promo'])
    assert.deepEqual([doc.Event, doc.EventKey], ['SCAN', 'promo'])
    assert.ok(doc.Ticket)
    assert.throws(() => buildSimulatedMessage('event', ['SCAN']), /needs the QR scene/)
  })

  test('click and view are menu events with their EventKey', () => {
    assert.deepEqual([parsed('click', ['V1001']).doc.Event, parsed('click', ['V1001']).doc.EventKey], ['CLICK', 'V1001'])
    const view = parsed('view', ['https://www.qq.com/a?b=1']).doc
    assert.deepEqual([view.Event, view.EventKey], ['VIEW', 'https://www.qq.com/a?b=1'])
  })

  test('image, voice, video, shortvideo take an optional MediaId', () => {
    assert.equal(parsed('image', ['MEDIA_1']).doc.MediaId, 'MEDIA_1')
    assert.equal(parsed('image', []).doc.MediaId, 'image_media_id')
    for (const kind of ['voice', 'video', 'shortvideo']) assert.equal(parsed(kind, []).doc.MsgType, kind)
  })

  test('location: numbers become Location_X/Location_Y, with a Scale and the Label', () => {
    const { typed } = parsed('location', ['-33.8688', '151.2093', '悉尼', '歌剧院'])
    assert.deepEqual([typed.Location_X, typed.Location_Y, typed.Scale, typed.Label], [-33.8688, 151.2093, 15, '悉尼 歌剧院'])
  })

  test('link: Url and Title', () => {
    const { doc } = parsed('link', ['https://mp.weixin.qq.com', '官网'])
    assert.deepEqual([doc.Url, doc.Title], ['https://mp.weixin.qq.com', '官网'])
  })

  test('event <Name> works for every table event, case-insensitively, and parses', () => {
    const { doc } = parsed('event', ['templatesendjobfinish'])
    assert.equal(doc.Event, 'TEMPLATESENDJOBFINISH')
    assert.equal(parsed('event', ['scancode_push', 'K9']).doc.EventKey, 'K9')
    const location = parsed('event', ['LOCATION', '23.1', '113.3', '30']).typed
    assert.deepEqual([location.Latitude, location.Longitude, location.Precision], [23.1, 113.3, 30])
  })

  test('xml <file>: the file is sent as is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-sim-'))
    const file = join(dir, 'm.xml')
    const xml = sampleXml('event:CLICK', { EventKey: 'FROM_FILE' })
    writeFileSync(file, xml)
    const msg = buildSimulatedMessage('xml', [file])
    assert.equal(msg.xml, xml)
    assert.equal(msg.kind, 'xml')
    assert.match(msg.label, /event CLICK/)
  })

  const bad: Array<[string, string[], RegExp]> = [
    ['bogus', [], /unknown kind "bogus".*text <message>/],
    ['text', [], /needs the message/],
    ['location', ['23.1'], /latitude and a longitude/],
    ['location', ['abc', '113'], /latitude "abc" is not a number/],
    ['location', ['23.1', '1e3'], /longitude "1e3" is not a number/],
    ['location', ['91', '113'], /outside -90…90/],
    ['location', ['23', '-181'], /outside -180…180/],
    ['link', [], /needs a URL/],
    ['link', ['javascript:alert(1)'], /http\(s\) URL/],
    ['view', ['www.qq.com'], /http\(s\) URL/],
    ['click', [], /menu button key/],
    ['click', ['A', 'B'], /at most 1 argument/],
    ['image', ['a', 'b'], /at most 1/],
    ['event', [], /needs an Event name/],
    ['event', ['nosuchevent'], /unknown event "nosuchevent"; events: subscribe/],
    ['event', ['subscribe', 'has space'], /printable ASCII/],
    ['event', ['subscribe', 'x'.repeat(65)], /1–64/],
    ['event', ['unsubscribe', 'x'], /no arguments/],
    ['event', ['TEMPLATESENDJOBFINISH', 'x'], /no arguments/],
    ['event', ['LOCATION', '1'], /latitude, a longitude/],
    ['event', ['LOCATION', '1', '2', '-3'], /precision/],
    ['xml', [], /needs a file/],
    ['xml', ['/nonexistent/m.xml'], /cannot read .*ENOENT/],
  ]
  for (const [kind, args, message] of bad) {
    test(`${kind} ${args.join(' ')} is a usage error naming the mistake`.replace(/\s+is/, ' is'), () => {
      assert.throws(() => buildSimulatedMessage(kind, args), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && err.details?.usage === true && message.test(err.message))
    })
  }

  test('xml files that are not WeChat messages are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-sim-'))
    const broken = join(dir, 'broken.xml')
    writeFileSync(broken, '<xml><MsgType>text</xml>')
    assert.throws(() => buildSimulatedMessage('xml', [broken]), /not a WeChat message XML/)
    const noType = join(dir, 'notype.xml')
    writeFileSync(noType, '<xml><Content>hi</Content></xml>')
    assert.throws(() => buildSimulatedMessage('xml', [noType]), /no <MsgType>/)
    const doctype = join(dir, 'doctype.xml')
    writeFileSync(doctype, '<!DOCTYPE x [<!ENTITY a "b">]><xml><MsgType>&a;</MsgType></xml>')
    assert.throws(() => buildSimulatedMessage('xml', [doctype]), /DOCTYPE/)
  })
})
