/**
 * What the user saw, as one line: the passive answer, what came later (customer service,
 * "typing…", template messages), and the exchanges of follow-up messages.
 */
import type { LateMessage } from './late-sends.js'

/**
 * "typing… then 正在思考… then (customer service, 5.2 s): the answer", in the order the user saw
 * them: "typing…" can come before the passive answer (it starts while WeChat still waits).
 * Repeated "typing…" shows once.
 */
export function sawWithLate(passive: { text: string; atMs: number } | undefined, late: readonly LateMessage[]): string {
  const parts: string[] = []
  let pending = passive
  for (const message of late) {
    if (pending !== undefined && message.afterMs >= pending.atMs) {
      parts.push(pending.text)
      pending = undefined
    }
    if (message.kind === 'typing') {
      if (parts.at(-1) !== 'typing…') parts.push('typing…')
      continue
    }
    const via = message.kind === 'template' ? 'template message' : 'customer service'
    parts.push(`(${via}, ${(message.afterMs / 1000).toFixed(1)} s): ${message.text}`)
  }
  if (pending !== undefined) parts.push(pending.text)
  return parts.join(' then ')
}

/** "内容较长… then (you: 继续) the answer": the follow-up messages and what each got. */
export function sawWithFollowUps(first: string, text: string, followUps: ReadonlyArray<{ userSaw: string }>): string {
  return [first, ...followUps.map((f) => `(you: ${text}) ${f.userSaw}`)].join(' then ')
}
