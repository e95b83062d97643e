/** zh-CN first, English available; the choice is kept in this browser. */
import { EN } from './strings-en.js'
import { ZH, type StringKey } from './strings-zh.js'

export type Lang = 'zh-CN' | 'en'
const STORAGE_KEY = 'wxmp-console-lang'

function initial(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY)
  if (saved === 'en' || saved === 'zh-CN') return saved
  return 'zh-CN'
}

let lang: Lang = initial()
document.documentElement.lang = lang

export function currentLang(): Lang {
  return lang
}

export function setLang(next: Lang): void {
  lang = next
  localStorage.setItem(STORAGE_KEY, next)
  document.documentElement.lang = next
}

/** The string for `key` with `{name}` placeholders filled (values are text, never markup). */
export function t(key: StringKey, vars: Record<string, string | number> = {}): string {
  const table: Record<string, string> = lang === 'en' ? EN : ZH
  const template = table[key] ?? ZH[key] ?? key
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m))
}

/** `t` for keys built at run time (reasons, actions, scenes); falls back to `fallback`. */
export function tMaybe(key: string, fallback: string, vars: Record<string, string | number> = {}): string {
  const table: Record<string, string> = lang === 'en' ? EN : ZH
  return key in table ? t(key as StringKey, vars) : fallback
}

export type { StringKey }
