/**
 * Shared helpers for the security figures (scripts/security/*.ts): a real server process on
 * 127.0.0.1 (the hardening suites' server-main), signed requests, and its peak RSS.
 * Measurement scripts, not tests: run them by hand, e.g. `node --import tsx scripts/security/replay-forgery.ts`.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServerProcess, type ServerProcess } from '../../test/hardening/support/server-process.js'

export const TOKEN = 'figuresToken42'
export const APP_ID = 'wx5f1d7c8a9b3e2f10'
export const AES_KEY = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR'

export async function startFiguresServer(extra: Record<string, string> = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-figures-'))
  return startServerProcess({
    WECHAT_TOKEN: TOKEN,
    WECHAT_APPID: APP_ID,
    WECHAT_APPSECRET: 'figuresAppSecret0123456789abcdef',
    WECHAT_AES_KEY: AES_KEY,
    WECHAT_API_BASE: 'http://127.0.0.1:9',
    DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`,
    WXMP_LOG_LEVEL: 'error',
    ...extra,
  })
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0)
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

export async function post(url: string, search: string, body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url + search, { method: 'POST', body, headers: { 'content-type': 'text/xml' } })
  return { status: res.status, body: await res.text() }
}
