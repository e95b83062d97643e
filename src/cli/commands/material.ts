/** `wxmp material list|upload|delete`: permanent material from the command line. */
import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { parseArgsWithIds } from '../id-arguments.js'
import type { WechatApi } from '../../api/client.js'
import { MATERIAL_LIMITS, formatBytes, type MaterialListType, type MaterialType } from '../../api/groups/material.js'
import { WxmpError } from '../../errors.js'
import type { WxmpConfig } from '../../server/config.js'
import { wantsHelp, withConfiguredApi } from './publish.js'

export const MATERIAL_USAGE = `wxmp material list [image|voice|video|news] [--offset 0] [--count 20] [--json] | wxmp material upload <file> [--type image|voice|video|thumb] [--title T] [--introduction I] | wxmp material delete <media_id>
  Lists permanent material with the account's counts, uploads a file (type from its
  extension; a video needs --title; sizes and formats checked first), or deletes one.`

export interface MaterialCommandContext {
  config: WxmpConfig
  print: (line: string) => void
  printErr?: (line: string) => void
  api?: WechatApi
}

const TYPE_BY_EXTENSION: Record<string, MaterialType> = { jpg: 'image', jpeg: 'image', png: 'image', gif: 'image', bmp: 'image', mp3: 'voice', wma: 'voice', wav: 'voice', amr: 'voice', mp4: 'video' }

export async function runMaterialCommand(argv: string[], ctx: MaterialCommandContext): Promise<number> {
  if (wantsHelp(argv)) {
    ctx.print(MATERIAL_USAGE)
    return 0
  }
  const [sub, ...rest] = argv
  const usage = () => {
    ;(ctx.printErr ?? ctx.print)(`wxmp: usage: ${MATERIAL_USAGE.split('\n')[0]}`)
    return 2
  }
  const { values, positionals } = parseArgsWithIds({
    args: rest,
    options: {
      offset: { type: 'string', default: '0' },
      count: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      type: { type: 'string' },
      title: { type: 'string' },
      introduction: { type: 'string' },
    },
    allowPositionals: true,
  })
  if (sub === 'list') {
    const [kind = 'image', ...extra] = positionals
    if (extra.length > 0 || !['image', 'voice', 'video', 'news'].includes(kind)) return usage()
    return withConfiguredApi(ctx, async (api) => {
      const [count, page] = await Promise.all([api.material.count(), api.material.batchGet(kind as MaterialListType, Number(values.offset), Number(values.count))])
      if (values.json) {
        ctx.print(JSON.stringify({ count, ...page }, null, 2))
        return 0
      }
      ctx.print(`images ${count.image_count} · voice ${count.voice_count} · video ${count.video_count} · news ${count.news_count}`)
      for (const item of page.item) ctx.print(`${item.media_id}  ${new Date(item.update_time * 1000).toISOString().slice(0, 16).replace('T', ' ')}  ${item.name ?? ''}${item.url ? `  ${item.url}` : ''}`)
      return 0
    })
  }
  const [target, ...extra] = positionals
  if (target === undefined || extra.length > 0) return usage()
  if (sub === 'upload') {
    const ext = /\.([A-Za-z0-9]+)$/.exec(target)?.[1]?.toLowerCase() ?? ''
    const type = (values.type ?? TYPE_BY_EXTENSION[ext]) as MaterialType | undefined
    if (type === undefined || !(type in MATERIAL_LIMITS)) throw new WxmpError('WX_ERR_API_INPUT', `cannot tell the material type of ${basename(target)}: pass --type image|voice|video|thumb`)
    const info = await stat(target).catch(() => undefined)
    if (info === undefined || !info.isFile()) throw new WxmpError('WX_ERR_API_INPUT', `${target}: no such file`)
    const limit = MATERIAL_LIMITS[type].maxBytes
    if (info.size > limit) throw new WxmpError('WX_ERR_API_INPUT', `${target} is ${info.size} bytes: WeChat takes ${type} material up to ${formatBytes(limit)}`)
    if (type === 'video' && values.title === undefined) throw new WxmpError('WX_ERR_API_INPUT', 'a video needs --title (and may have --introduction)')
    return withConfiguredApi(ctx, async (api) => {
      const video = type === 'video' ? { title: values.title!, ...(values.introduction === undefined ? {} : { introduction: values.introduction }) } : undefined
      const added = await api.material.add(type, await readFile(target), basename(target), video)
      ctx.print(values.json ? JSON.stringify(added) : `${added.mediaId}${added.url ? `  ${added.url}` : ''}`)
      return 0
    })
  }
  if (sub === 'delete') {
    return withConfiguredApi(ctx, async (api) => {
      await api.material.delete(target)
      const { PostStore } = await import('../../publish/post-store.js')
      const store = await PostStore.open(ctx.config.databaseUrl)
      try {
        await store.forgetImageByMediaId(api.appId, target)
      } finally {
        await store.close()
      }
      ctx.print(`deleted material ${target}`)
      return 0
    })
  }
  return usage()
}
