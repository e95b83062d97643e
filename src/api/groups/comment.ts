/**
 * Comments on sent articles (留言管理): switch comments on or off, list them, elect
 * (精选), delete, reply. Articles are named by the msg_data_id a publish or mass send
 * returned, plus `index` for the nth article of a multi-article message (0 = the first).
 */
import type { ApiCaller } from '../caller.js'
import { requireInteger, requireString } from './input.js'

/** 0 all, 1 ordinary only, 2 elected only. */
export type CommentListType = 0 | 1 | 2

export interface ArticleComment {
  user_comment_id: number
  openid: string
  /** Unix seconds. */
  create_time: number
  content: string
  /** 1 when elected (精选). */
  comment_type: number
  reply?: { content: string; create_time: number }
}

export interface CommentTarget {
  msgDataId: string
  /** The article within the message, 0 = the first. */
  index?: number
}

/** Longest page WeChat answers (it refuses 50 and more). */
export const COMMENT_PAGE_MAX = 49

const target = (t: CommentTarget) => ({ msg_data_id: requireString('msgDataId', String(t?.msgDataId ?? '')), index: requireInteger('index', t.index ?? 0, 0, 7) })

/**
 * @example
 * const { total, comments } = await api.comment.list({ msgDataId }, { count: 20 })
 * await api.comment.reply({ msgDataId }, comments[0].user_comment_id, '谢谢!')
 */
export class CommentApi {
  constructor(private readonly api: ApiCaller) {}

  async open(article: CommentTarget): Promise<void> {
    await this.api.call('/cgi-bin/comment/open', target(article))
  }

  async close(article: CommentTarget): Promise<void> {
    await this.api.call('/cgi-bin/comment/close', target(article))
  }

  /** One page of comments; `count` 1–49. */
  async list(article: CommentTarget, page: { begin?: number; count?: number; type?: CommentListType } = {}): Promise<{ total: number; comments: ArticleComment[] }> {
    const result = await this.api.call<{ total?: number; comment?: ArticleComment[] }>(
      '/cgi-bin/comment/list',
      { ...target(article), begin: requireInteger('begin', page.begin ?? 0, 0, 1_000_000), count: requireInteger('count', page.count ?? COMMENT_PAGE_MAX, 1, COMMENT_PAGE_MAX), type: requireInteger('type', page.type ?? 0, 0, 2) },
      { idempotent: true },
    )
    return { total: result.total ?? 0, comments: result.comment ?? [] }
  }

  /** Elects a comment (精选): it is shown to every reader. */
  async markElect(article: CommentTarget, userCommentId: number): Promise<void> {
    await this.api.call('/cgi-bin/comment/markelect', { ...target(article), user_comment_id: requireInteger('userCommentId', userCommentId, 0, 2 ** 53) })
  }

  async unmarkElect(article: CommentTarget, userCommentId: number): Promise<void> {
    await this.api.call('/cgi-bin/comment/unmarkelect', { ...target(article), user_comment_id: requireInteger('userCommentId', userCommentId, 0, 2 ** 53) })
  }

  async delete(article: CommentTarget, userCommentId: number): Promise<void> {
    await this.api.call('/cgi-bin/comment/delete', { ...target(article), user_comment_id: requireInteger('userCommentId', userCommentId, 0, 2 ** 53) })
  }

  /** Replies as the account (one reply per comment: 88005 for a second). */
  async reply(article: CommentTarget, userCommentId: number, content: string): Promise<void> {
    await this.api.call('/cgi-bin/comment/reply/add', { ...target(article), user_comment_id: requireInteger('userCommentId', userCommentId, 0, 2 ** 53), content: requireString('reply content', content, { maxChars: 600 }) })
  }

  async deleteReply(article: CommentTarget, userCommentId: number): Promise<void> {
    await this.api.call('/cgi-bin/comment/reply/delete', { ...target(article), user_comment_id: requireInteger('userCommentId', userCommentId, 0, 2 ** 53) })
  }
}
