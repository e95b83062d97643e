/**
 * Markdown → WeChat-safe HTML. markdown-it parses; this module walks its tokens once to find
 * the title, the images (with their lines), the links and any HTML WeChat would strip, then
 * renders every element with the theme's inline style (WeChat drops <style> and classes) and
 * code blocks highlighted by highlight.js, its classes turned into inline styles too.
 * Whitespace in code is kept as &nbsp; and <br> because WeChat collapses it otherwise.
 */
import { createRequire } from 'node:module'
import MarkdownIt, { type Token } from 'markdown-it'
import { PostError } from './post-error.js'
import { DEFAULT_THEME, syntaxStyle, type Theme } from './theme.js'

export interface PostImage {
  /** As written in the Markdown. */
  src: string
  alt: string
  /** 1-based line in the file. */
  line: number
}

export interface ParsedPost {
  /** From the first `# Heading` when it opens the post (it is then not repeated in the body). */
  headingTitle?: { text: string; line: number }
  images: PostImage[]
  /** Problems WeChat would cause silently (stripped HTML, images it would drop). */
  problems: PostError[]
  tokens: Token[]
}

export interface RenderOptions {
  theme?: Theme
  /** External links become numbered references (default true). */
  linkReferences?: boolean
  /** The URL to put in place of an image's `src` (after upload). Default: unchanged. */
  imageUrl?: (src: string) => string
  /** Title of the references list. Default 参考链接. */
  referencesTitle?: string
}

/** The part of highlight.js used here. (Its own typings pull the DOM library into the whole program, changing Node's types: hence require and this narrow type.) */
interface Highlighter {
  getLanguage(name: string): object | undefined
  highlight(code: string, options: { language: string; ignoreIllegals: boolean }): { value: string }
}
const hljs = createRequire(import.meta.url)('highlight.js') as Highlighter

const md = new MarkdownIt({ html: true, linkify: false, typographer: false, breaks: false })

/** Hosts whose links WeChat opens inside an article. */
const WECHAT_LINK = /^https?:\/\/(mp\.weixin\.qq\.com|weixin\.qq\.com|work\.weixin\.qq\.com)(\/|$)/i
/** Image hosts WeChat keeps in an article (its own CDN). */
export const WECHAT_IMAGE = /^https?:\/\/(mmbiz\.qpic\.cn|mmbiz\.qlogo\.cn|mmecoa\.qpic\.cn)\//i

/** Raw HTML WeChat removes: elements and attributes, each with the reason shown to the author. */
const STRIPPED: Array<[RegExp, string]> = [
  [/<style\b/i, '<style> elements are removed by WeChat: style elements with inline style="…" instead'],
  [/<script\b/i, '<script> is removed by WeChat'],
  [/<(iframe|frame|object|embed)\b/i, 'embedded frames and objects are removed by WeChat (videos must come from its own video material)'],
  [/<(form|input|button|select|textarea)\b/i, 'forms and inputs are removed by WeChat'],
  [/<(link|meta|base)\b/i, '<link>, <meta> and <base> are removed by WeChat'],
  [/<[a-z][^>]*\sclass\s*=/i, 'class attributes are removed by WeChat (and with them any CSS): use inline style="…"'],
  [/<[a-z][^>]*\sid\s*=/i, 'id attributes are removed by WeChat'],
  [/<[a-z][^>]*\son[a-z]+\s*=/i, 'event handlers (onclick …) are removed by WeChat'],
  [/<[a-z][^>]*\sstyle\s*=\s*["'][^"']*position\s*:\s*(fixed|absolute)/i, 'position: fixed/absolute is removed by WeChat'],
]

/** Chinese/Japanese characters and full-width punctuation, next to which a line break adds no space. */
const CJK_END = /[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]$/
const CJK_START = /^[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]/
const CJK_PUNCT_END = /[\u3000-\u303f\uff00-\uff0f\uff1a-\uff20]$/
const CJK_PUNCT_START = /^[\u3000-\u303f\uff00-\uff0f\uff1a-\uff20]/

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** Text of an inline token's children (for the title). */
const inlineText = (token: Token | undefined) => (token?.children ?? []).filter((c) => c.type === 'text' || c.type === 'code_inline').map((c) => c.content).join('')

/** Parses `body` and collects what publishing needs; `lineOffset` turns body lines into file lines. */
export function parsePost(body: string, file: string, lineOffset = 0): ParsedPost {
  const tokens = md.parse(body, {})
  const images: PostImage[] = []
  const problems: PostError[] = []
  let headingTitle: ParsedPost['headingTitle']
  const first = tokens[0]
  if (first?.type === 'heading_open' && first.tag === 'h1') {
    headingTitle = { text: inlineText(tokens[1]).trim(), line: lineOffset + (first.map?.[0] ?? 0) + 1 }
  }
  const checkHtml = (html: string, line: number) => {
    for (const [pattern, reason] of STRIPPED) if (pattern.test(html)) problems.push(new PostError(file, line, reason))
    for (const tag of html.match(/<img\b[^>]*>/gi) ?? []) {
      const src = /\bsrc\s*=\s*["']?([^"'\s>]+)/i.exec(tag)?.[1] ?? ''
      if (!WECHAT_IMAGE.test(src)) problems.push(new PostError(file, line, `the HTML image ${JSON.stringify(src.slice(0, 80))} would be dropped by WeChat: write it as ![alt](${src.slice(0, 60)}) so it is uploaded`))
    }
  }
  for (const token of tokens) {
    const blockLine = lineOffset + (token.map?.[0] ?? 0) + 1
    if (token.type === 'html_block') checkHtml(token.content, blockLine)
    if (token.type !== 'inline') continue
    let breaks = 0
    for (const child of token.children ?? []) {
      if (child.type === 'softbreak' || child.type === 'hardbreak') breaks++
      else if (child.type === 'text') breaks += (child.content.match(/\n/g) ?? []).length
      else if (child.type === 'image') images.push({ src: attr(child, 'src'), alt: inlineText(child), line: blockLine + breaks })
      else if (child.type === 'html_inline') checkHtml(child.content, blockLine + breaks)
    }
  }
  return { ...(headingTitle === undefined ? {} : { headingTitle }), images, problems, tokens }
}

/** Highlights `code` (when the language is known) and turns highlight.js classes into styles. */
export function highlightCode(code: string, lang: string, theme: Theme = DEFAULT_THEME): string {
  const language = lang !== '' && hljs.getLanguage(lang) !== undefined ? lang : undefined
  const html = language === undefined ? escapeHtml(code) : hljs.highlight(code, { language, ignoreIllegals: true }).value
  const styled = html.replace(/<span class="([^"]*)">/g, (_, classes: string) => {
    const style = syntaxStyle(theme, classes)
    return style === '' ? '<span>' : `<span style="${style}">`
  })
  // WeChat collapses spaces and newlines: make them explicit outside the tags
  return styled
    .replace(/\n$/, '')
    .split(/(<[^>]+>)/)
    .map((part) => (part.startsWith('<') ? part : part.replace(/\t/g, '    ').replace(/ /g, '&nbsp;').replace(/\n/g, '<br>')))
    .join('')
}

/** Renders the parsed post to the article's HTML (the title is not part of it: WeChat shows it). */
export function renderPost(parsed: ParsedPost, options: RenderOptions = {}): string {
  const theme = options.theme ?? DEFAULT_THEME
  const imageUrl = options.imageUrl ?? ((src: string) => src)
  const references: string[] = []
  /** Blockquote depth, and per open link its closing text (undefined: a real <a>). */
  const state = { quote: 0, links: [] as Array<string | undefined> }
  let tokens = parsed.tokens
  if (parsed.headingTitle !== undefined) {
    // the opening # Heading is the title: WeChat prints the title above the article already
    const close = tokens.findIndex((t) => t.type === 'heading_close')
    tokens = tokens.slice(close + 1)
  }
  const renderer = md.renderer
  const rules: typeof renderer.rules = {
    ...renderer.rules,
    heading_open: (ts, i) => `<${ts[i]!.tag} style="${(theme as unknown as Record<string, string>)[ts[i]!.tag] ?? theme.h4}">`,
    paragraph_open: (ts, i) => {
      if (ts[i]!.hidden) return ''
      if (onlyImage(ts[i + 1])) return `<section style="${theme.figure}">`
      return `<p style="${state.quote > 0 ? theme.blockquoteP : theme.p}">`
    },
    paragraph_close: (ts, i) => (ts[i]!.hidden ? '' : onlyImage(ts[i - 1]) ? '</section>' : '</p>\n'),
    blockquote_open: () => {
      state.quote++
      return `<blockquote style="${theme.blockquote}">`
    },
    blockquote_close: () => {
      state.quote--
      return '</blockquote>\n'
    },
    bullet_list_open: () => `<ul style="${theme.ul}">`,
    ordered_list_open: (ts, i) => {
      const start = attr(ts[i]!, 'start')
      return `<ol style="${theme.ol}"${start === '' ? '' : ` start="${escapeHtml(start)}"`}>`
    },
    list_item_open: () => `<li style="${theme.li}">`,
    hr: () => `<hr style="${theme.hr}">\n`,
    table_open: () => `<section style="${theme.tableWrap}"><table style="${theme.table}">`,
    table_close: () => '</table></section>\n',
    th_open: (ts, i) => `<th style="${theme.th}${alignOf(ts[i]!)}">`,
    td_open: (ts, i) => `<td style="${theme.td}${alignOf(ts[i]!)}">`,
    strong_open: () => `<strong style="${theme.strong}">`,
    em_open: () => `<em style="${theme.em}">`,
    s_open: () => `<del style="${theme.del}">`,
    s_close: () => '</del>',
    code_inline: (ts, i) => `<code style="${theme.codeInline}">${escapeHtml(ts[i]!.content)}</code>`,
    fence: (ts, i) => codeBlock(ts[i]!.content, ts[i]!.info.trim().split(/\s+/)[0] ?? ''),
    code_block: (ts, i) => codeBlock(ts[i]!.content, ''),
    image: (ts, i) => {
      const token = ts[i]!
      const alt = inlineText(token)
      const img = `<img src="${escapeHtml(imageUrl(attr(token, 'src')))}" alt="${escapeHtml(alt)}" style="${theme.img}">`
      return onlyImageParent(ts) && alt !== '' ? `${img}<p style="${theme.figcaption}">${escapeHtml(alt)}</p>` : img
    },
    link_open: (ts, i) => {
      const href = attr(ts[i]!, 'href')
      const text = inlineText({ children: ts.slice(i + 1, ts.findIndex((t, j) => j > i && t.type === 'link_close')) } as Token)
      if (WECHAT_LINK.test(href) || options.linkReferences === false) {
        state.links.push(undefined)
        return `<a href="${escapeHtml(href)}" style="${theme.a}">`
      }
      // WeChat does not open other sites from an article: the URL goes to the references
      if (text === href || !/^https?:\/\//i.test(href)) {
        state.links.push('')
        return ''
      }
      let n = references.indexOf(href) + 1
      if (n === 0) n = references.push(href)
      state.links.push(`<sup style="${theme.ref}">[${n}]</sup>`)
      return `<span style="${theme.a.replace(/border-bottom:[^;]*;/, '')}">`
    },
    link_close: () => {
      const ref = state.links.pop()
      return ref === undefined ? '</a>' : ref === '' ? '' : `</span>${ref}`
    },
    // a line break inside a paragraph is a space in HTML: right for English, wrong between Chinese characters
    softbreak: (ts, i) => {
      const before = ts[i - 1]?.content ?? ''
      const after = ts[i + 1]?.content ?? ''
      return (CJK_END.test(before) && CJK_START.test(after)) || CJK_PUNCT_END.test(before) || CJK_PUNCT_START.test(after) ? '' : '\n'
    },
    html_block: (ts, i) => ts[i]!.content,
    html_inline: (ts, i) => ts[i]!.content,
  }
  const saved = renderer.rules
  renderer.rules = rules
  let html: string
  try {
    html = renderer.render(tokens, md.options, {})
  } finally {
    renderer.rules = saved
  }
  if (references.length > 0) {
    html += `<p style="${theme.refsTitle}">${escapeHtml(options.referencesTitle ?? '参考链接')}</p>`
    html += references.map((url, i) => `<p style="${theme.refsItem}">[${i + 1}] ${escapeHtml(url)}</p>`).join('')
  }
  return `<section style="${theme.article}">${html}</section>`

  function codeBlock(code: string, lang: string): string {
    return `<section style="${theme.pre}"><code style="${theme.code}">${highlightCode(code, lang, theme)}</code></section>\n`
  }
}

/** An inline token that holds a single image and nothing else. */
function onlyImage(token: Token | undefined): boolean {
  const children = (token?.children ?? []).filter((c) => !(c.type === 'text' && c.content.trim() === ''))
  return token?.type === 'inline' && children.length === 1 && children[0]!.type === 'image'
}

/** Whether the image being rendered is alone in its paragraph (renderInline gets the children only). */
function onlyImageParent(children: Token[]): boolean {
  return children.filter((c) => !(c.type === 'text' && c.content.trim() === '')).length === 1
}

/** An attribute as text ('' when absent). */
function attr(token: Token, name: string): string {
  const value = token.attrGet(name)
  return value === null ? '' : String(value)
}

function alignOf(token: Token): string {
  const style = attr(token, 'style')
  const align = style === '' ? undefined : /text-align:\s*(left|right|center)/.exec(style)?.[1]
  return align === undefined ? '' : ` text-align: ${align};`
}
