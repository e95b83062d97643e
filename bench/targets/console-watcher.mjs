// An operator with the inbox open: signs in to the console, keeps the live stream open and
// reloads the conversation list on every "gap" event, as the page does. Runs until killed.
import { setTimeout as sleep } from 'node:timers/promises'

const origin = `http://127.0.0.1:${process.env.BENCH_PORT}`
const base = `${origin}/console/api`
let cookie = ''
let events = 0

async function signIn() {
  for (;;) {
    try {
      const res = await fetch(`${base}/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ user: 'bench', password: process.env.BENCH_CONSOLE_PASSWORD }) })
      if (res.ok) {
        cookie = res.headers.get('set-cookie').split(';')[0]
        return
      }
    } catch {
      // the server is still starting
    }
    await sleep(100)
  }
}

const reloadList = () => fetch(`${base}/conversations`, { headers: { cookie, origin } }).then((r) => r.text())

await signIn()
await reloadList()
for (;;) {
  try {
    const res = await fetch(`${base}/live`, { headers: { cookie, origin, accept: 'text/event-stream' } })
    let buffer = ''
    for await (const chunk of res.body) {
      buffer += Buffer.from(chunk).toString('utf8')
      let end
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (frame.startsWith('event: ')) events++
        if (frame.startsWith('event: gap')) await reloadList()
      }
    }
  } catch {
    // the stream ended (server stopping): try again shortly
  }
  await sleep(500)
}
