/**
 * Everything that can be checked before talking to WeChat: the front matter, the title and
 * field lengths, HTML WeChat strips, and every image (present, reachable, a format and size
 * WeChat takes). All problems are collected and reported together, each with its line.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { DRAFT_LIMITS } from '../api/groups/draft.js'
import { splitFrontMatter, type PostMeta } from './front-matter.js'
import { isWechatImage, loadImage, type LoadedImage } from './images.js'
import { PostError, PostErrors } from './post-error.js'
import { parsePost, renderPost, type ParsedPost } from './render.js'
import type { Theme } from './theme.js'

export interface PreparedPost {
  /** Absolute path: the key of the post in the database. */
  path: string
  /** The path as the user gave it, for messages. */
  file: string
  meta: PostMeta
  title: string
  parsed: ParsedPost
  /** Images to upload, by their `src` (WeChat-hosted ones are not here). */
  images: Map<string, LoadedImage>
  cover: LoadedImage
  /** Changes when the text or any image changes. */
  contentHash: string
}

const chars = (s: string) => [...s].length

/** Reads and checks a post; throws PostErrors listing every problem found. */
export async function preparePost(file: string, options: { fetch?: typeof globalThis.fetch } = {}): Promise<PreparedPost> {
  const path = resolve(file)
  let source: string
  try {
    source = await readFile(path, 'utf8')
  } catch (err) {
    throw new PostError(file, 0, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read it (${(err as Error).message})`)
  }
  const { meta, body, bodyLineOffset } = splitFrontMatter(source, file)
  const parsed = parsePost(body, file, bodyLineOffset)
  const problems: PostError[] = [...parsed.problems]
  const title = meta.title ?? parsed.headingTitle?.text
  const titleLine = meta.lines.title ?? parsed.headingTitle?.line ?? 1
  if (title === undefined || title === '') {
    problems.unshift(new PostError(file, 1, 'the post has no title: add "title: …" to the front matter (--- lines at the top) or start it with a "# Heading"'))
  } else if (chars(title) > DRAFT_LIMITS.titleChars) {
    problems.push(new PostError(file, titleLine, `the title is ${chars(title)} characters: WeChat takes at most ${DRAFT_LIMITS.titleChars}`))
  }
  if (meta.author !== undefined && chars(meta.author) > DRAFT_LIMITS.authorChars) problems.push(new PostError(file, meta.lines.author ?? 1, `author is ${chars(meta.author)} characters: WeChat takes at most ${DRAFT_LIMITS.authorChars}`))
  if (meta.digest !== undefined && chars(meta.digest) > DRAFT_LIMITS.digestChars) problems.push(new PostError(file, meta.lines.digest ?? 1, `digest is ${chars(meta.digest)} characters: WeChat takes at most ${DRAFT_LIMITS.digestChars}`))
  if (body.trim() === '' || (parsed.headingTitle !== undefined && parsed.tokens.length <= 3)) problems.push(new PostError(file, bodyLineOffset + 1, 'the post has no text below its title'))

  const images = new Map<string, LoadedImage>()
  const wanted = parsed.images.filter((img) => !isWechatImage(img.src))
  const coverSource = meta.cover !== undefined ? { src: meta.cover, line: meta.lines.cover ?? 1 } : parsed.images[0]
  const loads = await Promise.allSettled(wanted.map((img) => (images.has(img.src) ? Promise.resolve(images.get(img.src)!) : loadImage(img.src, img.line, path, options.fetch))))
  loads.forEach((result, i) => {
    if (result.status === 'fulfilled') images.set(wanted[i]!.src, result.value)
    else problems.push(relabel(result.reason, file))
  })
  let cover: LoadedImage | undefined
  if (coverSource === undefined) {
    problems.push(new PostError(file, 1, 'no cover image: WeChat needs one for an article. Add "cover: ./cover.jpg" to the front matter, or put an image in the post (the first one becomes the cover)'))
  } else if (isWechatImage(coverSource.src)) {
    problems.push(new PostError(file, coverSource.line, 'the cover must be a file or a downloadable URL (it is uploaded as permanent material), not an image already on WeChat\'s CDN'))
  } else if (wanted.some((img) => img.src === coverSource.src)) {
    // a body image: loaded above (a failure is reported once, there)
    cover = images.get(coverSource.src)
  } else {
    cover = (await loadImage(coverSource.src, coverSource.line, path, options.fetch).catch((err: unknown) => void problems.push(relabel(err, file))) ?? undefined)
  }
  if (problems.length > 0 || cover === undefined || title === undefined) {
    problems.sort((a, b) => a.line - b.line)
    throw problems.length === 1 ? problems[0]! : new PostErrors(problems)
  }
  const hash = createHash('sha256').update(source)
  for (const image of [...images.values(), cover]) hash.update(image.sha256)
  return { path, file, meta, title, parsed, images, cover, contentHash: hash.digest('hex') }
}

/** Errors from loadImage name the absolute path: show the file as the user typed it. */
function relabel(err: unknown, file: string): PostError {
  if (err instanceof PostError) return err.file === file ? err : new PostError(file, err.line, err.message.slice(err.message.indexOf(': ') + 2))
  throw err
}

/**
 * A standalone HTML page showing the article as a reader would see it on a phone (local
 * images inlined), for checking a post before publishing (`wxmp publish --preview`).
 */
export function previewPage(post: PreparedPost, options: { theme?: Theme } = {}): string {
  const dataUrl = (src: string) => {
    const image = post.images.get(src)
    return image === undefined ? src : `data:image/${image.format};base64,${image.data.toString('base64')}`
  }
  const article = renderPost(post.parsed, { imageUrl: dataUrl, linkReferences: post.meta.linkReferences, ...(options.theme === undefined ? {} : { theme: options.theme }) })
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const byline = post.meta.author === undefined ? '' : esc(post.meta.author)
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(post.title)}</title></head>
<body style="margin: 0; background: #ffffff;">
<div style="max-width: 677px; margin: 0 auto; padding: 20px 16px 40px;">
<h1 style="margin: 0 0 12px; font-size: 22px; line-height: 1.4; font-weight: bold; color: #222222; font-family: -apple-system, BlinkMacSystemFont, 'PingFang SC', 'Microsoft YaHei', sans-serif;">${esc(post.title)}</h1>
<p style="margin: 0 0 22px; font-size: 15px; color: #576b95; font-family: -apple-system, BlinkMacSystemFont, 'PingFang SC', sans-serif;">${byline}</p>
${article}
</div>
</body></html>
`
}
