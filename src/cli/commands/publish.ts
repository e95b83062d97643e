/**
 * `wxmp publish <post.md>`: a Markdown post becomes a published WeChat article (or a draft,
 * or a preview page). The renderer and its libraries (markdown-it, highlight.js, yaml) live
 * in src/publish/ and are imported only when this command runs.
 */
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import type { WechatApi } from '../../api/client.js'
import { createWechatApiFromConfig } from '../../api/from-config.js'
import { WxmpError } from '../../errors.js'
import { openSharedStore } from '../../server/app.js'
import type { WxmpConfig } from '../../server/config.js'

export const PUBLISH_USAGE = `wxmp publish <post.md> [--draft] [--republish] [--preview out.html] [--timeout 600] [--json]
  Publishes a Markdown post (front matter: title, author, digest, cover, source_url,
  comments): uploads its images and cover, saves the draft (a re-run updates it), submits it
  and follows the job until WeChat reports the article URL. --draft stops at the draft and
  prints its media id; --preview writes a phone-width HTML page and sends nothing.`

export interface PublishCommandContext {
  config: WxmpConfig
  print: (line: string) => void
  printErr?: (line: string) => void
  /** A ready client (tests); otherwise one is built from config. */
  api?: WechatApi
  /** Progress output (default stderr; a terminal gets one updating line). */
  progressWrite?: (chunk: string) => void
  /** Pause between status checks (tests). */
  intervalMs?: number
}

/** Runs `fn` with the configured API client (closing the shared store afterwards). */
export async function withConfiguredApi<T>(ctx: { config: WxmpConfig; api?: WechatApi }, fn: (api: WechatApi) => Promise<T>): Promise<T> {
  if (ctx.api !== undefined) return fn(ctx.api)
  const store = openSharedStore(ctx.config)
  try {
    return await fn(createWechatApiFromConfig(ctx.config, store))
  } finally {
    await store.close()
  }
}

/** Whether argv asks for help (`--help`/`-h` anywhere): the command then prints its usage and does nothing. */
export const wantsHelp = (argv: string[]) => argv.includes('--help') || argv.includes('-h')

export async function runPublishCommand(argv: string[], ctx: PublishCommandContext): Promise<number> {
  if (wantsHelp(argv)) {
    ctx.print(PUBLISH_USAGE)
    return 0
  }
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      draft: { type: 'boolean', default: false },
      republish: { type: 'boolean', default: false },
      preview: { type: 'string' },
      timeout: { type: 'string', default: '600' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  })
  const [file] = positionals
  if (file === undefined || positionals.length > 1) {
    ;(ctx.printErr ?? ctx.print)(`wxmp: usage: ${PUBLISH_USAGE.split('\n')[0]}`)
    return 2
  }
  if (!/^\d{1,5}$/.test(values.timeout) || Number(values.timeout) < 1) throw new WxmpError('WX_ERR_CONFIG', `--timeout takes seconds (1–99999), got ${JSON.stringify(values.timeout)}`)
  const [{ preparePost, previewPage }, { createProgress }] = await Promise.all([import('../../publish/prepare-post.js'), import('../../publish/progress.js')])
  const progress = createProgress(ctx.progressWrite === undefined ? {} : { write: ctx.progressWrite, tty: false })
  progress.update(`reading ${file}`)
  const post = await preparePost(file)
  progress.done(`${file}: "${post.title}", ${post.images.size} image${post.images.size === 1 ? '' : 's'} to upload, cover ${post.cover.src.slice(0, 60)}`)
  if (values.preview !== undefined) {
    await writeFile(values.preview, previewPage(post))
    ctx.print(`preview written to ${values.preview} (nothing was sent to WeChat)`)
    return 0
  }
  const { PostStore } = await import('../../publish/post-store.js')
  const { publishPost } = await import('../../publish/publish-post.js')
  const store = await PostStore.open(ctx.config.databaseUrl)
  try {
    return await withConfiguredApi(ctx, async (api) => {
      const outcome = await publishPost(post, {
        api,
        store,
        progress,
        draftOnly: values.draft,
        republish: values.republish,
        timeoutMs: Number(values.timeout) * 1000,
        ...(ctx.intervalMs === undefined ? {} : { intervalMs: ctx.intervalMs }),
      })
      if (values.json) ctx.print(JSON.stringify(outcome))
      else if (outcome.status === 'draft') ctx.print(outcome.mediaId!)
      else ctx.print(outcome.articleUrl ?? outcome.articleId ?? '')
      return 0
    })
  } finally {
    await store.close()
  }
}
