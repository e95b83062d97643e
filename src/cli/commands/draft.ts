/** `wxmp draft list|show|delete`: the draft box from the command line. */
import { parseArgsWithIds } from '../id-arguments.js'
import type { WechatApi } from '../../api/client.js'
import type { WxmpConfig } from '../../server/config.js'
import { wantsHelp, withConfiguredApi } from './publish.js'

export const DRAFT_USAGE = `wxmp draft list [--offset 0] [--count 20] [--json] | wxmp draft show <media_id> [--html] | wxmp draft delete <media_id>
  Lists the drafts (newest first), shows one (its articles; --html prints the content), or
  deletes one (a post published with wxmp publish then gets a new draft next time).`

export interface DraftCommandContext {
  config: WxmpConfig
  print: (line: string) => void
  printErr?: (line: string) => void
  api?: WechatApi
}

const date = (seconds: number) => new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 16)

export async function runDraftCommand(argv: string[], ctx: DraftCommandContext): Promise<number> {
  if (wantsHelp(argv)) {
    ctx.print(DRAFT_USAGE)
    return 0
  }
  const [sub, ...rest] = argv
  const usage = () => {
    ;(ctx.printErr ?? ctx.print)(`wxmp: usage: ${DRAFT_USAGE.split('\n')[0]}`)
    return 2
  }
  const { values, positionals } = parseArgsWithIds({
    args: rest,
    options: { offset: { type: 'string', default: '0' }, count: { type: 'string', default: '20' }, json: { type: 'boolean', default: false }, html: { type: 'boolean', default: false } },
    allowPositionals: true,
  })
  if (sub === 'list' && positionals.length === 0) {
    return withConfiguredApi(ctx, async (api) => {
      const page = await api.draft.batchGet({ offset: Number(values.offset), count: Number(values.count), noContent: true })
      if (values.json) {
        ctx.print(JSON.stringify(page, null, 2))
        return 0
      }
      ctx.print(`${page.total_count} draft${page.total_count === 1 ? '' : 's'}${page.item_count < page.total_count ? ` (showing ${page.item_count} from ${values.offset})` : ''}`)
      for (const item of page.item) {
        const titles = item.content.news_item.map((a) => a.title).join(' | ')
        ctx.print(`${item.media_id}  ${date(item.update_time)}  ${titles}`)
      }
      return 0
    })
  }
  const [mediaId, ...extra] = positionals
  if (mediaId === undefined || extra.length > 0) return usage()
  if (sub === 'show') {
    return withConfiguredApi(ctx, async (api) => {
      const articles = await api.draft.get(mediaId)
      if (values.json) ctx.print(JSON.stringify(articles, null, 2))
      else {
        for (const [i, a] of articles.entries()) {
          ctx.print(`[${i}] ${a.title}${a.author ? ` — ${a.author}` : ''}`)
          if (a.digest) ctx.print(`    digest: ${a.digest}`)
          if (a.content_source_url) ctx.print(`    source: ${a.content_source_url}`)
          ctx.print(`    cover: ${a.thumb_media_id ?? ''}  comments: ${a.need_open_comment === 1 ? (a.only_fans_can_comment === 1 ? 'followers' : 'on') : 'off'}  ${a.content.length} characters of HTML`)
          if (values.html) ctx.print(a.content)
        }
      }
      return 0
    })
  }
  if (sub === 'delete') {
    return withConfiguredApi(ctx, async (api) => {
      await api.draft.delete(mediaId)
      const { PostStore } = await import('../../publish/post-store.js')
      const store = await PostStore.open(ctx.config.databaseUrl)
      try {
        await store.forgetDraft(api.appId, mediaId)
      } finally {
        await store.close()
      }
      ctx.print(`deleted draft ${mediaId}`)
      return 0
    })
  }
  return usage()
}
