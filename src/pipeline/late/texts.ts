/**
 * What the user reads when an answer waits for their next message: the notice, the page
 * footer and the "still working" text. Chinese by default (most followers read it), English
 * when the bot says `language: 'en'`; each can be replaced by the bot's own text.
 */
export type Language = 'zh' | 'en'

export interface PendingTexts {
  /** Answered when the reply will wait for the next message. */
  notice: string
  /** Answered when the user asks while the answer is still being prepared. */
  busy: string
  /** The footer of a page with `n` pages after it. */
  footer(n: number): string
}

/** The word the footer asks for when no keyword is set (any message works then). */
const CONTINUE_WORD: Record<Language, string> = { zh: '继续', en: 'more' }

export interface PendingTextOptions {
  language?: Language
  /** The keyword that fetches a pending answer; undefined: any message does. */
  keyword?: string | undefined
  notice?: string | undefined
  busy?: string | undefined
  /** A footer template: `{n}` is replaced by the pages left, `{keyword}` by the word to send. */
  footer?: string | undefined
}

/**
 * The texts in force, defaults filled in.
 *
 * @example pendingTexts({ keyword: '继续' }).notice // '内容较长，回复"继续"获取结果'
 */
export function pendingTexts(options: PendingTextOptions = {}): PendingTexts {
  const language = options.language ?? 'zh'
  const keyword = options.keyword
  const word = keyword ?? CONTINUE_WORD[language]
  const defaults =
    language === 'en'
      ? {
          notice: keyword === undefined ? 'The answer is taking a while: send any message to get it.' : `The answer is taking a while: send "${keyword}" to get it.`,
          busy: keyword === undefined ? 'Still working on it: send any message again in a moment.' : `Still working on it: send "${keyword}" again in a moment.`,
          footer: '(send "{keyword}" for the remaining {n} pages)',
        }
      : {
          notice: keyword === undefined ? '内容较长，回复任意文字获取结果' : `内容较长，回复"${keyword}"获取结果`,
          busy: keyword === undefined ? '仍在处理中，请稍后回复任意文字获取结果' : `仍在处理中，请稍后回复"${keyword}"获取结果`,
          footer: '（回复"{keyword}"查看剩余 {n} 页）',
        }
  const template = options.footer ?? defaults.footer
  return {
    notice: options.notice ?? defaults.notice,
    busy: options.busy ?? defaults.busy,
    footer: (n) => template.replaceAll('{n}', String(n)).replaceAll('{keyword}', word),
  }
}
