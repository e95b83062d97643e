/** A problem with a post, named by file and line (WX_ERR_POST_INVALID). */
import { WxmpError } from '../errors.js'

export class PostError extends WxmpError {
  override readonly name = 'PostError'
  readonly file: string
  /** 1-based; 0 when the problem is not on one line. */
  readonly line: number

  constructor(file: string, line: number, message: string) {
    super('WX_ERR_POST_INVALID', `${file}${line > 0 ? `:${line}` : ''}: ${message}`, { details: { file, line } })
    this.file = file
    this.line = line
  }
}

/** Several problems at once: the author fixes them all in one go. */
export class PostErrors extends WxmpError {
  override readonly name = 'PostErrors'
  readonly problems: PostError[]

  constructor(problems: PostError[]) {
    super('WX_ERR_POST_INVALID', problems.map((p) => p.message).join('\n'), { details: { count: problems.length } })
    this.problems = problems
  }
}
