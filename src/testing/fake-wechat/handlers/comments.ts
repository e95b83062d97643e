/**
 * Comments on sent articles. An article is a msg_data_id from a publish or a mass send plus
 * an index; comments themselves come from readers, so a test adds them with
 * `fake.addComment(msgDataId, { openid, content })`. Errors: 88001 unknown msg_data_id,
 * 88000 comments closed, 88008 unknown comment, 88005 second reply, 88007 reply length,
 * 88009 no reply to delete, 88010 page size.
 */
import { post, type Route } from '../route.js'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, ok, readJson, type JsonBody } from './body.js'
import { wxError } from './errmsgs.js'
import { publishing } from './freepublish.js'

export interface FakeComment {
  user_comment_id: number
  openid: string
  create_time: number
  content: string
  comment_type: 0 | 1
  reply?: { content: string; create_time: number }
  deleted: boolean
}

interface CommentThread {
  open: boolean
  comments: FakeComment[]
}

const threads = (state: FakeState) => state.area('comments', () => ({ byArticle: new Map<string, CommentThread>(), nextId: 1 }))

/** The thread of an article, created open on first use; undefined when WeChat does not know the msg_data_id/index. */
export function commentThread(state: FakeState, msgDataId: string, index: number): CommentThread | undefined {
  const sent = publishing(state).msgData.get(msgDataId)
  if (sent === undefined || index < 0 || index >= sent.articles) return undefined
  const key = `${msgDataId}:${index}`
  const area = threads(state)
  let thread = area.byArticle.get(key)
  if (thread === undefined) {
    thread = { open: true, comments: [] }
    area.byArticle.set(key, thread)
  }
  return thread
}

/** A reader's comment (what `fake.addComment` does). */
export function addComment(state: FakeState, msgDataId: string, comment: { openid: string; content: string; index?: number }): number {
  const thread = commentThread(state, msgDataId, comment.index ?? 0)
  if (thread === undefined) throw new RangeError(`fake-wechat addComment: no article was sent with msg_data_id ${msgDataId} (index ${comment.index ?? 0})`)
  const id = threads(state).nextId++
  thread.comments.push({ user_comment_id: id, openid: comment.openid, content: comment.content, create_time: Math.floor(state.now() / 1000), comment_type: 0, deleted: false })
  return id
}

function threadOf(req: FakeRequest, state: FakeState): { thread: CommentThread; body: JsonBody } | { error: FakeResponse } {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed
  const { body } = parsed
  const index = body.index ?? 0
  if (typeof index !== 'number' || !Number.isInteger(index)) return { error: state.error(47001, 'data format error hint: [index]') }
  const thread = commentThread(state, String(body.msg_data_id ?? ''), index)
  return thread === undefined ? { error: wxError(state, 88001) } : { thread, body }
}

function commentOf(req: FakeRequest, state: FakeState): { comment: FakeComment; body: JsonBody } | { error: FakeResponse } {
  const found = threadOf(req, state)
  if ('error' in found) return found
  const comment = found.thread.comments.find((c) => c.user_comment_id === found.body.user_comment_id && !c.deleted)
  return comment === undefined ? { error: wxError(state, 88008) } : { comment, body: found.body }
}

const setOpen = (open: boolean) => (req: FakeRequest, state: FakeState): FakeResponse => {
  const found = threadOf(req, state)
  if ('error' in found) return found.error
  found.thread.open = open
  return ok()
}

export function commentList(req: FakeRequest, state: FakeState): FakeResponse {
  const found = threadOf(req, state)
  if ('error' in found) return found.error
  const { begin, count, type } = found.body
  if (typeof count !== 'number' || count <= 0 || count >= 50) return wxError(state, 88010)
  if (typeof begin !== 'number' || begin < 0) return state.error(47001, 'data format error hint: [begin]')
  const visible = found.thread.comments.filter((c) => !c.deleted && (type === 1 ? c.comment_type === 0 : type === 2 ? c.comment_type === 1 : true))
  return {
    json: {
      errcode: 0,
      errmsg: 'ok',
      total: visible.length,
      comment: visible.slice(begin, begin + count).map(({ deleted: _deleted, ...c }) => c),
    },
  }
}

const elect = (on: boolean) => (req: FakeRequest, state: FakeState): FakeResponse => {
  const found = commentOf(req, state)
  if ('error' in found) return found.error
  found.comment.comment_type = on ? 1 : 0
  return ok()
}

export function commentDelete(req: FakeRequest, state: FakeState): FakeResponse {
  const found = commentOf(req, state)
  if ('error' in found) return found.error
  found.comment.deleted = true
  return ok()
}

export function replyAdd(req: FakeRequest, state: FakeState): FakeResponse {
  const found = commentOf(req, state)
  if ('error' in found) return found.error
  const content = found.body.content
  if (!isNonEmptyString(content) || [...content].length > 600) return wxError(state, 88007)
  if (found.comment.reply !== undefined) return wxError(state, 88005)
  found.comment.reply = { content, create_time: Math.floor(state.now() / 1000) }
  return ok()
}

export function replyDelete(req: FakeRequest, state: FakeState): FakeResponse {
  const found = commentOf(req, state)
  if ('error' in found) return found.error
  if (found.comment.reply === undefined) return wxError(state, 88009)
  delete found.comment.reply
  return ok()
}

/** Comments must be open to be listed or answered. */
function whenOpen(handle: (req: FakeRequest, state: FakeState) => FakeResponse) {
  return (req: FakeRequest, state: FakeState): FakeResponse => {
    const found = threadOf(req, state)
    if ('error' in found) return found.error
    if (!found.thread.open) return wxError(state, 88000)
    return handle(req, state)
  }
}

export const COMMENT_ROUTES: Record<string, Route> = {
  '/cgi-bin/comment/open': post(setOpen(true)),
  '/cgi-bin/comment/close': post(setOpen(false)),
  '/cgi-bin/comment/list': post(whenOpen(commentList)),
  '/cgi-bin/comment/markelect': post(whenOpen(elect(true))),
  '/cgi-bin/comment/unmarkelect': post(whenOpen(elect(false))),
  '/cgi-bin/comment/delete': post(whenOpen(commentDelete)),
  '/cgi-bin/comment/reply/add': post(whenOpen(replyAdd)),
  '/cgi-bin/comment/reply/delete': post(whenOpen(replyDelete)),
}
