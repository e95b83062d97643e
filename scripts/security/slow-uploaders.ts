/**
 * Memory under slow uploaders: N connections each announce a 1 MiB body and send it in 64 KiB
 * pieces over about 12 s. `forged` uploads carry a garbage signature; `signed` ones reuse one
 * correctly signed captured query (so the signature passes and the body is read). Reports the
 * server's peak RSS (VmHWM), its RSS after the uploads, and when the first answers came.
 *
 *   node --import tsx scripts/security/slow-uploaders.ts forged 1000
 *   node --import tsx scripts/security/slow-uploaders.ts signed 1000
 */
import net from 'node:net'
import { signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { TOKEN, rssOf, startFiguresServer } from './common.js'

const mode = process.argv[2] === 'signed' ? 'signed' : 'forged'
const connections = Number(process.argv[3] ?? 1000)
const BODY = 1024 * 1024
const PIECE = 64 * 1024
const GAP_MS = 800

const server = await startFiguresServer({ WXMP_MAX_BODY_BYTES: String(BODY), ...(process.env.FIGURES_ENV ? JSON.parse(process.env.FIGURES_ENV) : {}) })
const pid = server.child.pid!
const port = Number(new URL(server.url).port)
const now = Math.floor(Date.now() / 1000)
const search = mode === 'signed' ? signedRequest({ token: TOKEN, xml: sampleXml('text') }).search : `?signature=${'a'.repeat(40)}&timestamp=${now}&nonce=1`
const piece = Buffer.alloc(PIECE, 0x61)
const idle = rssOf(pid)
const started = Date.now()
const firstByte: number[] = []
const statuses = new Map<string, number>()
let peakSampled = 0
const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, rssOf(pid).rss)), 100)

await Promise.all(
  Array.from({ length: connections }, (_, i) =>
    new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      let sent = 0
      let answered = false
      let timer: NodeJS.Timeout | undefined
      const done = () => {
        clearTimeout(timer)
        socket.destroy()
        resolve()
      }
      socket.on('error', () => undefined)
      socket.on('data', (data: Buffer) => {
        if (answered) return
        answered = true
        firstByte.push(Date.now() - started)
        const status = /^HTTP\/1\.1 (\d{3})/.exec(data.toString('latin1'))?.[1] ?? '?'
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      })
      socket.on('close', done)
      const next = () => {
        if (socket.destroyed || sent >= BODY) return
        socket.write(piece)
        sent += PIECE
        timer = setTimeout(next, GAP_MS)
      }
      socket.on('connect', () => {
        socket.write(`POST /wechat${search}${mode === 'signed' ? `&n=${i}` : ''} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: ${BODY}\r\n\r\n`)
        timer = setTimeout(next, 50)
      })
      setTimeout(done, 30_000)
    }),
  ),
)
clearInterval(sampler)
await new Promise((resolve) => setTimeout(resolve, 3000))
const after = rssOf(pid)
firstByte.sort((a, b) => a - b)
console.log(`${connections} ${mode} slow uploaders of 1 MiB`)
console.log(`server RSS idle ${idle.rss.toFixed(0)} MB, peak (VmHWM) ${after.peak.toFixed(0)} MB, 3 s after ${after.rss.toFixed(0)} MB`)
console.log(`answers: ${JSON.stringify(Object.fromEntries(statuses))}; first byte: first ${firstByte[0] ?? '-'} ms, median ${firstByte[Math.floor(firstByte.length / 2)] ?? '-'} ms, last ${firstByte.at(-1) ?? '-'} ms`)
await server.stop()
