/**
 * Messages from command-line words: `wxmp simulate <kind> <args…>` mapped to the fields WeChat
 * sends, every mistake named (WX_ERR_CONFIG with details.usage).
 */
import { readFileSync } from 'node:fs'
import { WxmpError } from '../errors.js'
import { EVENT_NAMES_BY_LOWER_CASE, EVENT_TABLE, type EventName } from '../messages/table.js'
import type { XmlElements } from '../xml/build.js'
import { parseXml, textOf, type XmlObject } from '../xml/parse.js'
import { sampleXml, type SampleKind } from './samples.js'


/** The first word of `wxmp simulate <kind> …`. */
export const SIMULATED_KINDS = ['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link', 'event', 'click', 'view', 'xml'] as const

export interface SimulatedMessageOptions {
  /** FromUserName (the user's OpenID). */
  openid?: string
  /** ToUserName (the account's 原始ID, gh_…). */
  account?: string
  /** Unix seconds; default now. */
  createTime?: number
}

export interface SimulatedMessage {
  /** The sample kind sent, or 'xml' for a file given as is. */
  kind: SampleKind | 'xml'
  /** A short description for output, e.g. `event subscribe (scene 42)`. */
  label: string
  xml: string
}

/** A ticket shaped like WeChat's (they are opaque base64 strings). */
const SIMULATED_TICKET = 'gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw=='

/** One line naming every kind and its arguments, for usage errors. */
export const SIMULATED_USAGE_HINT = `kinds: text <message>, image [MediaId], voice [MediaId], video [MediaId], shortvideo [MediaId], location <lat> <lon> [label], link <url> [title], click <EventKey>, view <url>, event <Event> [args], xml <file>`

function usage(message: string): WxmpError {
  return new WxmpError('WX_ERR_CONFIG', message, { details: { usage: true } })
}

/**
 * The message XML for `wxmp simulate <kind> <args…>`: the words people type mapped to the
 * fields WeChat sends. Throws WX_ERR_CONFIG (details.usage) naming the mistake.
 *
 * @example
 * buildSimulatedMessage('text', ['你好']).xml                 // <xml>…<Content><![CDATA[你好]]>…
 * buildSimulatedMessage('event', ['subscribe', '42']).xml     // EventKey qrscene_42 + Ticket
 * buildSimulatedMessage('location', ['23.1', '113.3', '广州']) // Location_X, Location_Y, Scale, Label
 */
export function buildSimulatedMessage(kind: string, args: readonly string[], options: SimulatedMessageOptions = {}): SimulatedMessage {
  const sample = (sampleKind: SampleKind, fields: XmlElements, label: string): SimulatedMessage => ({
    kind: sampleKind,
    label,
    xml: sampleXml(sampleKind, fields, {
      ...(options.openid === undefined ? {} : { openid: options.openid }),
      ...(options.account === undefined ? {} : { account: options.account }),
      ...(options.createTime === undefined ? {} : { createTime: options.createTime }),
    }),
  })
  switch (kind) {
    case 'text': {
      if (args.length === 0 || args.join(' ') === '') throw usage('text needs the message, e.g. wxmp simulate text 你好')
      const content = args.join(' ')
      return sample('text', { Content: content }, `text ${JSON.stringify(content)}`)
    }
    case 'image':
    case 'voice':
    case 'video':
    case 'shortvideo': {
      atMost(kind, args, 1, `${kind} [MediaId]`)
      const mediaId = args[0]
      if (mediaId !== undefined) checkWord(mediaId, 'MediaId')
      return sample(kind, mediaId === undefined ? {} : { MediaId: mediaId }, mediaId === undefined ? kind : `${kind} ${mediaId}`)
    }
    case 'location': {
      if (args.length < 2) throw usage('location needs a latitude and a longitude, e.g. wxmp simulate location 23.1 113.3 广州塔')
      const lat = coordinate(args[0] as string, 'latitude', 90)
      const lon = coordinate(args[1] as string, 'longitude', 180)
      const label = args.slice(2).join(' ')
      return sample('location', { Location_X: lat, Location_Y: lon, Scale: 15, Label: label }, `location ${lat},${lon}${label ? ` ${label}` : ''}`)
    }
    case 'link': {
      const url = args[0]
      if (url === undefined) throw usage('link needs a URL, e.g. wxmp simulate link https://mp.weixin.qq.com 标题')
      checkUrl(url, 'link')
      const title = args.slice(1).join(' ') || url
      return sample('link', { Title: title, Description: title, Url: url }, `link ${url}`)
    }
    case 'click': {
      atMost(kind, args, 1, 'click <EventKey>')
      if (args[0] === undefined) throw usage('click needs the menu button key, e.g. wxmp simulate click V1001_TODAY_MUSIC')
      return event('CLICK', [args[0]], sample)
    }
    case 'view': {
      atMost(kind, args, 1, 'view <url>')
      if (args[0] === undefined) throw usage('view needs the menu button URL, e.g. wxmp simulate view https://www.qq.com')
      checkUrl(args[0], 'view')
      return event('VIEW', [args[0]], sample)
    }
    case 'event': {
      const name = args[0]
      if (name === undefined) throw usage(`event needs an Event name, e.g. wxmp simulate event subscribe; events: ${Object.keys(EVENT_TABLE).join(', ')}`)
      const canonical = EVENT_NAMES_BY_LOWER_CASE.get(name.toLowerCase())
      if (canonical === undefined) throw usage(`unknown event ${JSON.stringify(name.slice(0, 60))}; events: ${Object.keys(EVENT_TABLE).join(', ')}`)
      return event(canonical, args.slice(1), sample)
    }
    case 'xml':
      return rawXml(args)
    default:
      throw usage(`unknown kind ${JSON.stringify(kind.slice(0, 60))}; ${SIMULATED_USAGE_HINT}`)
  }
}

type SampleMaker = (kind: SampleKind, fields: XmlElements, label: string) => SimulatedMessage

function event(name: EventName, args: readonly string[], sample: SampleMaker): SimulatedMessage {
  const kind: SampleKind = `event:${name}`
  switch (name) {
    case 'subscribe': {
      atMost('event subscribe', args, 1, 'event subscribe [scene]')
      const scene = args[0]
      if (scene === undefined) return sample(kind, { EventKey: '' }, 'event subscribe')
      checkScene(scene)
      return sample(kind, { EventKey: `qrscene_${scene}`, Ticket: SIMULATED_TICKET }, `event subscribe (scene ${scene})`)
    }
    case 'SCAN': {
      atMost('event SCAN', args, 1, 'event SCAN <scene>')
      const scene = args[0]
      if (scene === undefined) throw usage('event SCAN needs the QR scene, e.g. wxmp simulate event SCAN 42 (a follower scanned a parametric QR code)')
      checkScene(scene)
      return sample(kind, { EventKey: scene, Ticket: SIMULATED_TICKET }, `event SCAN (scene ${scene})`)
    }
    case 'LOCATION': {
      if (args.length === 0) return sample(kind, {}, 'event LOCATION')
      if (args.length < 2 || args.length > 3) throw usage('event LOCATION takes a latitude, a longitude and optionally a precision, e.g. wxmp simulate event LOCATION 23.13 113.35 30')
      const Latitude = coordinate(args[0] as string, 'latitude', 90)
      const Longitude = coordinate(args[1] as string, 'longitude', 180)
      const precision = args[2] === undefined ? undefined : positiveNumber(args[2], 'precision')
      return sample(kind, { Latitude, Longitude, ...(precision === undefined ? {} : { Precision: precision }) }, `event LOCATION ${Latitude},${Longitude}`)
    }
    case 'unsubscribe':
      atMost('event unsubscribe', args, 0, 'event unsubscribe')
      return sample(kind, {}, 'event unsubscribe')
    default: {
      if (!('EventKey' in EVENT_TABLE[name])) {
        atMost(`event ${name}`, args, 0, `event ${name}`)
        return sample(kind, {}, `event ${name}`)
      }
      atMost(`event ${name}`, args, 1, `event ${name} [EventKey]`)
      const key = args[0]
      if (key !== undefined) checkWord(key, 'EventKey')
      return sample(kind, key === undefined ? {} : { EventKey: key }, key === undefined ? `event ${name}` : `event ${name} ${key}`)
    }
  }
}

function rawXml(args: readonly string[]): SimulatedMessage {
  atMost('xml', args, 1, 'xml <file>')
  const file = args[0]
  if (file === undefined) throw usage('xml needs a file holding one message XML, e.g. wxmp simulate xml ./message.xml')
  let xml: string
  try {
    xml = readFileSync(file, 'utf8')
  } catch (err) {
    throw usage(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let doc: XmlObject
  try {
    doc = parseXml(xml)
  } catch (err) {
    throw usage(`${file} is not a WeChat message XML: ${(err as Error).message}`)
  }
  const type = textOf(doc, 'MsgType')
  if (type === undefined) throw usage(`${file} has no <MsgType>: WeChat sends ToUserName, FromUserName, CreateTime and MsgType in every message`)
  const eventName = type === 'event' ? textOf(doc, 'Event') : undefined
  return { kind: 'xml', label: `xml ${file} (${type}${eventName === undefined ? '' : ` ${eventName}`})`, xml }
}

function atMost(what: string, args: readonly string[], n: number, form: string): void {
  if (args.length > n) throw usage(`${what} takes ${n === 0 ? 'no arguments' : `at most ${n} argument${n === 1 ? '' : 's'}`} (${form}); got ${args.length}: quote text with spaces`)
}

function coordinate(raw: string, name: string, limit: number): number {
  if (!/^-?\d+(\.\d+)?$/.test(raw)) throw usage(`${name} ${JSON.stringify(raw.slice(0, 40))} is not a number, e.g. 23.134521`)
  const value = Number(raw)
  if (Math.abs(value) > limit) throw usage(`${name} ${raw} is outside -${limit}…${limit}`)
  return value
}

function positiveNumber(raw: string, name: string): number {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw usage(`${name} ${JSON.stringify(raw.slice(0, 40))} is not a positive number`)
  return Number(raw)
}

function checkScene(scene: string): void {
  // scene_id is a 32-bit number, scene_str 1–64 characters
  if (!/^[\x21-\x7e]{1,64}$/.test(scene)) throw usage(`scene ${JSON.stringify(scene.slice(0, 70))} must be 1–64 printable ASCII characters (a scene_id or scene_str)`)
}

function checkWord(value: string, name: string): void {
  if (value.length === 0 || value.length > 256) throw usage(`${name} must be 1–256 characters`)
}

function checkUrl(value: string, what: string): void {
  if (!/^https?:\/\/\S+$/.test(value)) throw usage(`${what} needs an http(s) URL, got ${JSON.stringify(value.slice(0, 60))}`)
}

