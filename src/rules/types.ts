/**
 * Replies without code: the shape of a rule, as stored, exported to a file and given to the
 * programmatic API. Plain JSON values (no classes, no functions) so the same object goes to
 * the database, a YAML file, the CLI and the operator console unchanged.
 *
 * A rule is: when (trigger) → what (reply), optionally only at some times (schedule), at most
 * once per user in a while (cooldownSec), switched on or off (enabled), and ranked (priority:
 * the highest matching enabled rule answers; priorities are unique, so there is never a tie).
 */

/** Ordinary message types a `message` trigger can name (the rows of the message table). */
export const RULE_MESSAGE_TYPES = ['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link'] as const
export type RuleMessageType = (typeof RULE_MESSAGE_TYPES)[number]

/**
 * Text messages equal to one of `exact` or containing one of `contains` (the console's 全匹配
 * and 半匹配). Both sides are compared after Unicode NFKC normalisation and lower-casing, with
 * surrounding spaces ignored: full-width "ＨＥＬＰ？" matches "help?".
 */
export interface KeywordTrigger {
  type: 'keyword'
  exact?: string[]
  contains?: string[]
}

/** Text messages matching a regular expression (refused at save time when it can backtrack catastrophically). */
export interface RegexTrigger {
  type: 'regex'
  pattern: string
  /** Any of `i`, `m`, `s`, `u`. */
  flags?: string
}

/** A new follower (subscribe event); with `scene`, only through that parametric QR code (qrscene_…). */
export interface FollowTrigger {
  type: 'follow'
  scene?: string
}

/** A follower scanned a parametric QR code (SCAN event); with `scene`, only that one. */
export interface ScanTrigger {
  type: 'scan'
  scene?: string
}

/** A menu button of type click with this key (CLICK event, EventKey). */
export interface ClickTrigger {
  type: 'click'
  key: string
}

/** Any ordinary message of these types (image, voice, location …). */
export interface MessageTrigger {
  type: 'message'
  msgTypes: RuleMessageType[]
}

/**
 * The console's 收到消息回复: an ordinary message that nothing else answered — no other rule
 * and no code handler. Never used for events.
 */
export interface DefaultTrigger {
  type: 'default'
}

export type RuleTrigger = KeywordTrigger | RegexTrigger | FollowTrigger | ScanTrigger | ClickTrigger | MessageTrigger | DefaultTrigger
export type RuleTriggerType = RuleTrigger['type']
export const RULE_TRIGGER_TYPES = ['keyword', 'regex', 'follow', 'scan', 'click', 'message', 'default'] as const satisfies readonly RuleTriggerType[]

/**
 * Text with placeholders: `{text}` the user's message, `{scene}` the QR scene, `{key}` the
 * EventKey, `{openid}` the user's OpenID, `{match}` what the keyword or regex matched.
 * `{{` and `}}` are literal braces.
 */
export interface RuleTextReply {
  type: 'text'
  content: string
}
export interface RuleImageReply {
  type: 'image'
  mediaId: string
}
export interface RuleVoiceReply {
  type: 'voice'
  mediaId: string
}
export interface RuleVideoReply {
  type: 'video'
  mediaId: string
  title?: string
  description?: string
}
export interface RuleMusicReply {
  type: 'music'
  thumbMediaId: string
  title?: string
  description?: string
  musicUrl?: string
  hqMusicUrl?: string
}
export interface RuleNewsArticle {
  title: string
  description?: string
  picUrl?: string
  url?: string
}
/** One article when answering a message; up to 8 when answering an event (follow, click, scan). */
export interface RuleNewsReply {
  type: 'news'
  articles: RuleNewsArticle[]
}
/** A single reply picked at random each time (the console's 随机回复一条). */
export interface RuleRandomReply {
  type: 'random'
  replies: RuleSingleReply[]
}
/**
 * Every reply, in order (the console's 回复全部): the first is the passive reply, the others
 * follow through the customer-service API (the account needs that permission; WeChat allows 5
 * per user message, 3 per menu click, follow or scan).
 */
export interface RuleAllReply {
  type: 'all'
  replies: RuleSingleReply[]
}
/** Leave the message to the code handlers (in `rules-first` order; nothing in `code-first`). */
export interface RulePassReply {
  type: 'pass'
}

export type RuleSingleReply = RuleTextReply | RuleImageReply | RuleVoiceReply | RuleVideoReply | RuleMusicReply | RuleNewsReply
export type RuleReply = RuleSingleReply | RuleRandomReply | RuleAllReply | RulePassReply
export type RuleReplyType = RuleReply['type']
export const RULE_REPLY_TYPES = ['text', 'image', 'voice', 'video', 'music', 'news', 'random', 'all', 'pass'] as const satisfies readonly RuleReplyType[]

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
export type Weekday = (typeof WEEKDAYS)[number]

/** From `from` (inclusive) to `to` (exclusive), `HH:MM` (`to` may be 24:00), on `days` (default every day). `to` before `from` runs past midnight. */
export interface TimeWindow {
  days?: Weekday[]
  from: string
  to: string
}

/** When a rule is active: inside any of `windows`, in `timezone` (IANA name, default Asia/Shanghai). */
export interface RuleSchedule {
  timezone?: string
  windows: TimeWindow[]
}

/** Where a rule came from, so a repeated import recognises its own rules. */
export interface RuleSource {
  kind: 'console'
  /** A digest of the console setting it was converted from (media by content): unchanged → left alone. */
  fingerprint: string
}

/** A rule as given to the API, a file or the CLI: `id` and `priority` may be left out. */
export interface RuleInput {
  /** Letters, digits and `_ . : -`, up to 64; generated when missing. */
  id?: string
  /** A name for people (the console's 规则名), up to 60 characters. Default: the id. */
  name?: string
  /** Default true. */
  enabled?: boolean
  /** Higher wins. Unique. Default: above every other rule (newest wins, like the console). */
  priority?: number
  trigger: RuleTrigger
  reply: RuleReply
  schedule?: RuleSchedule
  /** Answer a user at most once in this many seconds (the console answers 收到消息回复 once per hour). */
  cooldownSec?: number
  source?: RuleSource
}

/** A stored rule: every field filled in. */
export interface Rule {
  id: string
  name: string
  enabled: boolean
  priority: number
  trigger: RuleTrigger
  reply: RuleReply
  schedule?: RuleSchedule
  cooldownSec?: number
  source?: RuleSource
  /** Unix ms. */
  createdAt: number
  updatedAt: number
}

/** Where the rules engine sits relative to the code handlers. */
export type RulesOrder = 'rules-first' | 'code-first'
export const RULES_ORDERS = ['rules-first', 'code-first'] as const satisfies readonly RulesOrder[]

/** The file format (`wxmp rules export`, WXMP_RULES_FILE): a version and the rules. */
export interface RulesFile {
  wxmpRules: 1
  rules: RuleInput[]
}
