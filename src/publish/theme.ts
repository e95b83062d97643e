/**
 * The default look of a published article, as inline styles: WeChat removes <style>
 * elements and class attributes, so every element carries its own `style`. Sizes are for a
 * phone (WeChat's article column is the screen width minus 16 px a side).
 */

export interface Theme {
  /** The <section> wrapping the whole article. */
  article: string
  h1: string
  h2: string
  h3: string
  h4: string
  p: string
  a: string
  /** The numbered reference after a link that became a footnote. */
  ref: string
  strong: string
  em: string
  del: string
  ul: string
  ol: string
  li: string
  blockquote: string
  /** A paragraph inside a quote. */
  blockquoteP: string
  hr: string
  img: string
  /** The caption under an image (its alt text). */
  figcaption: string
  figure: string
  /** The scroller around a table. */
  tableWrap: string
  table: string
  th: string
  td: string
  codeInline: string
  /** The block around a code block. */
  pre: string
  code: string
  /** The "References" list at the end. */
  refsTitle: string
  refsItem: string
  /** highlight.js scope (`keyword`, `string` …) → style. */
  syntax: Record<string, string>
}

const ACCENT = '#07c160'
const MONO = "Menlo, Consolas, 'Roboto Mono', 'Courier New', monospace"

export const DEFAULT_THEME: Theme = {
  article: "font-size: 16px; color: #333333; line-height: 1.75; letter-spacing: 0.5px; word-break: break-word; font-family: -apple-system, BlinkMacSystemFont, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Helvetica Neue', Arial, sans-serif;",
  h1: 'margin: 1.6em 0 0.8em; font-size: 22px; font-weight: bold; line-height: 1.4; color: #222222; text-align: center;',
  h2: `margin: 1.8em 0 0.8em; padding-left: 10px; border-left: 4px solid ${ACCENT}; font-size: 19px; font-weight: bold; line-height: 1.4; color: #222222;`,
  h3: 'margin: 1.5em 0 0.6em; font-size: 17px; font-weight: bold; line-height: 1.4; color: #222222;',
  h4: 'margin: 1.2em 0 0.5em; font-size: 16px; font-weight: bold; line-height: 1.4; color: #444444;',
  p: 'margin: 0 0 1em;',
  a: `color: ${ACCENT}; text-decoration: none; border-bottom: 1px solid ${ACCENT};`,
  ref: `color: ${ACCENT}; font-size: 12px; vertical-align: super; line-height: 0;`,
  strong: 'font-weight: bold; color: #222222;',
  em: 'font-style: italic;',
  del: 'text-decoration: line-through; color: #999999;',
  ul: 'margin: 0 0 1em; padding-left: 1.6em; list-style-type: disc;',
  ol: 'margin: 0 0 1em; padding-left: 1.6em; list-style-type: decimal;',
  li: 'margin: 0.3em 0; line-height: 1.75;',
  blockquote: `margin: 1em 0; padding: 10px 14px; border-left: 4px solid ${ACCENT}; background: #f6f8f7; color: #666666; font-size: 15px; border-radius: 0 4px 4px 0;`,
  blockquoteP: 'margin: 0.3em 0;',
  hr: 'margin: 2em 0; border: 0; border-top: 1px solid #e5e5e5; height: 0;',
  img: 'display: block; max-width: 100%; height: auto; margin: 0 auto; border-radius: 4px;',
  figcaption: 'margin-top: 6px; font-size: 13px; color: #999999; text-align: center; line-height: 1.5;',
  figure: 'margin: 1.2em 0; text-align: center;',
  tableWrap: 'margin: 1em 0; overflow-x: auto;',
  table: 'width: 100%; border-collapse: collapse; font-size: 14px; line-height: 1.5;',
  th: 'padding: 6px 10px; border: 1px solid #dfe2e5; background: #f6f8fa; font-weight: bold; text-align: left; white-space: nowrap;',
  td: 'padding: 6px 10px; border: 1px solid #dfe2e5;',
  codeInline: `margin: 0 2px; padding: 2px 5px; border-radius: 3px; background: #f3f4f4; color: #c7254e; font-size: 14px; font-family: ${MONO};`,
  pre: 'margin: 1em 0; padding: 12px 14px; border-radius: 6px; background: #f6f8fa; overflow-x: auto; line-height: 1.6;',
  code: `display: block; font-size: 13px; color: #24292e; font-family: ${MONO}; white-space: nowrap; letter-spacing: 0;`,
  refsTitle: 'margin: 2em 0 0.6em; font-size: 15px; font-weight: bold; color: #666666;',
  refsItem: 'margin: 0.2em 0; font-size: 13px; color: #888888; word-break: break-all; line-height: 1.6;',
  syntax: {
    keyword: 'color: #d73a49;',
    'doctag': 'color: #d73a49;',
    'template-tag': 'color: #d73a49;',
    'template-variable': 'color: #d73a49;',
    type: 'color: #d73a49;',
    'variable.language': 'color: #d73a49;',
    title: 'color: #6f42c1;',
    'title.class': 'color: #6f42c1;',
    'title.function': 'color: #6f42c1;',
    attr: 'color: #005cc5;',
    attribute: 'color: #005cc5;',
    literal: 'color: #005cc5;',
    meta: 'color: #005cc5;',
    number: 'color: #005cc5;',
    operator: 'color: #005cc5;',
    variable: 'color: #e36209;',
    'selector-attr': 'color: #005cc5;',
    'selector-class': 'color: #005cc5;',
    'selector-id': 'color: #005cc5;',
    regexp: 'color: #032f62;',
    string: 'color: #032f62;',
    built_in: 'color: #e36209;',
    symbol: 'color: #e36209;',
    comment: 'color: #6a737d; font-style: italic;',
    code: 'color: #6a737d;',
    formula: 'color: #6a737d;',
    name: 'color: #22863a;',
    quote: 'color: #22863a;',
    'selector-tag': 'color: #22863a;',
    'selector-pseudo': 'color: #22863a;',
    subst: 'color: #24292e;',
    section: 'color: #005cc5; font-weight: bold;',
    bullet: 'color: #735c0f;',
    emphasis: 'font-style: italic;',
    strong: 'font-weight: bold;',
    addition: 'color: #22863a; background: #f0fff4;',
    deletion: 'color: #b31d28; background: #ffeef0;',
  },
}

/** The style for highlight.js classes (`hljs-title function_` → the most specific known scope). */
export function syntaxStyle(theme: Theme, classes: string): string {
  const names = classes.split(/\s+/).filter((c) => c.startsWith('hljs-')).map((c) => c.slice(5))
  const [first, ...rest] = names
  if (first === undefined) return ''
  const sub = rest.map((r) => r.replace(/_+$/, ''))
  for (const s of sub) {
    const specific = theme.syntax[`${first}.${s}`]
    if (specific !== undefined) return specific
  }
  return theme.syntax[first] ?? ''
}
