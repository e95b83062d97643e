/**
 * Who may sign in: the operators of WXMP_CONSOLE_USERS, or in development (no users set) one
 * `admin` whose password is generated once and kept beside the dev Token, printed in the
 * banner the same way.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname } from 'node:path'
import type { ConsoleConfig } from '../server/config.js'
import { WxmpError } from '../errors.js'
import { hashPassword, parseHash, parseOperators, type Operator } from './password.js'

export interface OperatorList {
  operators: Operator[]
  /** Development only: the generated sign-in, for the banner. */
  dev?: { user: string; password: string; file: string }
}

export const DEV_OPERATOR = 'admin'

export async function loadOperators(config: ConsoleConfig): Promise<OperatorList> {
  if (config.users !== undefined) return { operators: parseOperators(config.users) }
  if (config.passwordFile === undefined) {
    throw new WxmpError('WX_ERR_CONFIG', 'the console is on but has no operators: set WXMP_CONSOLE_USERS (wxmp console add-user NAME) or WXMP_CONSOLE=0')
  }
  const password = devPassword(config.passwordFile)
  // a cheap hash: it only ever guards a development machine, and is made at every start
  const hash = parseHash(await hashPassword(password, { log2N: 12, r: 8, p: 1 }))!
  return { operators: [{ name: DEV_OPERATOR, hash }], dev: { user: DEV_OPERATOR, password, file: config.passwordFile } }
}

function devPassword(file: string): string {
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim()
    if (/^[A-Za-z0-9_-]{12,64}$/.test(saved)) return saved
  }
  const password = randomBytes(12).toString('base64url')
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, password + '\n', { mode: 0o600 })
  return password
}
