/**
 * `wxmp console add-user NAME`: makes an operator's scrypt hash for WXMP_CONSOLE_USERS. The
 * password comes from standard input (piped, or typed without echo on a terminal) or is
 * generated with --generate; the line is printed, or stored in ./.env with --save.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { WxmpError } from '../../errors.js'
import { hashPassword, isOperatorName, parseOperators } from '../../console/password.js'

type Print = (line: string) => void

export const CONSOLE_USAGE = `wxmp console add-user NAME [--generate] [--save]
  Makes an operator for the console (docs/console.md): reads the password from stdin (or
  --generate makes one and prints it once), prints the WXMP_CONSOLE_USERS line, or with
  --save adds it to ./.env (replacing NAME's earlier entry).`

export interface ConsoleCommandIo {
  print: Print
  printErr: Print
  /** The password source (default: standard input, without echo on a terminal). */
  readPassword?: () => Promise<string>
  /** Where --save writes (default ./.env). */
  envFile?: string
}

export async function runConsoleCommand(argv: string[], io: ConsoleCommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { generate: { type: 'boolean' }, save: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true })
  if (values.help === true) {
    io.print(CONSOLE_USAGE)
    return 0
  }
  const [sub, name, ...extra] = positionals
  if (sub !== 'add-user' || name === undefined || extra.length > 0) {
    io.printErr(`wxmp: usage: ${CONSOLE_USAGE.split('\n')[0]}`)
    return 2
  }
  if (!isOperatorName(name)) throw new WxmpError('WX_ERR_CONFIG', `operator name ${JSON.stringify(name.slice(0, 70))}: use 1–64 letters, digits, ".", "_", "@" or "-"`)
  let password: string
  if (values.generate === true) {
    password = randomBytes(15).toString('base64url')
  } else {
    password = (await (io.readPassword ?? readPasswordFromStdin)()).replace(/\r?\n$/, '')
    if (password.length < 8) throw new WxmpError('WX_ERR_CONFIG', 'the password needs at least 8 characters (or use --generate)')
  }
  const entry = `${name}:${await hashPassword(password)}`
  if (values.generate === true) io.printErr(`password for ${name}: ${password}   (shown once: give it to the operator)`)
  if (values.save !== true) {
    io.print(`WXMP_CONSOLE_USERS=${entry}`)
    io.printErr('add it to WXMP_CONSOLE_USERS (several operators: separate entries with commas), then restart the server')
    return 0
  }
  const file = io.envFile ?? resolve('.env')
  io.print(`${saveToEnv(file, name, entry)} ${name} in ${file}; restart the server to apply`)
  return 0
}

/** Adds or replaces NAME's entry in the WXMP_CONSOLE_USERS line of a .env file. */
export function saveToEnv(file: string, name: string, entry: string): 'added' | 'replaced' {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split(/\r?\n/) : []
  const at = lines.findIndex((l) => /^\s*(export\s+)?WXMP_CONSOLE_USERS\s*=/.test(l))
  let outcome: 'added' | 'replaced' = 'added'
  if (at === -1) {
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    lines.push(`WXMP_CONSOLE_USERS=${entry}`, '')
  } else {
    const value = lines[at]!.replace(/^\s*(export\s+)?WXMP_CONSOLE_USERS\s*=\s*/, '').replace(/^(['"])(.*)\1$/, '$2')
    const kept = value.split(',').map((e) => e.trim()).filter((e) => e !== '' && e.slice(0, e.indexOf(':')) !== name)
    if (kept.length < value.split(',').filter((e) => e.trim() !== '').length) outcome = 'replaced'
    const joined = [...kept, entry].join(',')
    parseOperators(joined) // never write a line the server would refuse
    lines[at] = `WXMP_CONSOLE_USERS=${joined}`
  }
  writeFileSync(file, lines.join('\n'), { mode: 0o600 })
  return outcome
}

/** Piped: the first line. A terminal: typed without echo. */
async function readPasswordFromStdin(): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) {
    let text = ''
    for await (const chunk of stdin) {
      text += String(chunk)
      if (text.includes('\n')) break
    }
    return text.split(/\r?\n/)[0] ?? ''
  }
  process.stderr.write('password (not shown): ')
  stdin.setRawMode(true)
  stdin.resume()
  return new Promise((resolvePassword, reject) => {
    let typed = ''
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done()
        if (ch === '\u0003') return done(new Error('cancelled'))
        if (ch === '\u007f') typed = typed.slice(0, -1)
        else typed += ch
      }
    }
    const done = (err?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      if (err === undefined) resolvePassword(typed)
      else reject(err)
    }
    stdin.on('data', onData)
  })
}
