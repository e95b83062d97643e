/**
 * The console page and its two assets. From dist/ (an installed wxmp) they are the files
 * `npm run build` wrote; from the TypeScript sources they are bundled in memory on first use.
 * The page is a fixed shell: no data in it, no inline script, so the CSP stays strict.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { WxmpError } from '../errors.js'

export interface Asset {
  body: Buffer
  gzip: Buffer
  type: string
  etag: string
}

export interface ConsoleAssets {
  'app.js': Asset
  'app.css': Asset
  version: string
}

const here = dirname(fileURLToPath(import.meta.url))
let loading: Promise<ConsoleAssets> | undefined

export function loadAssets(): Promise<ConsoleAssets> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined
    throw err
  })
  return loading
}

async function load(): Promise<ConsoleAssets> {
  const built = join(here, 'assets')
  let files: { 'app.js': Buffer; 'app.css': Buffer }
  if (existsSync(join(built, 'app.js'))) {
    files = { 'app.js': readFileSync(join(built, 'app.js')), 'app.css': readFileSync(join(built, 'app.css')) }
  } else if (existsSync(join(here, 'client', 'main.ts'))) {
    const { buildConsoleAssets } = await import('./build-assets.js')
    files = await buildConsoleAssets(join(here, 'client', 'main.ts'))
  } else {
    throw new WxmpError('WX_ERR_CONFIG', `the console's assets are missing (${built}): run npm run build`)
  }
  const asset = (body: Buffer, type: string): Asset => ({ body, gzip: gzipSync(body, { level: 9 }), type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` })
  const js = asset(files['app.js'], 'text/javascript; charset=utf-8')
  const css = asset(files['app.css'], 'text/css; charset=utf-8')
  return { 'app.js': js, 'app.css': css, version: createHash('sha256').update(js.etag + css.etag).digest('base64url').slice(0, 10) }
}

/** The HTML shell; `base` is the console path. Only the script fills it. */
export function shellHtml(base: string, version: string): string {
  const b = base.replace(/[^A-Za-z0-9\-_.~/]/g, '')
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>wxmp 控制台</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${b}/assets/app.css?v=${version}">
<script src="${b}/assets/app.js?v=${version}" defer></script>
</head>
<body data-base="${b}">
<noscript>wxmp 控制台需要 JavaScript · The wxmp console needs JavaScript</noscript>
<div id="app" class="boot">wxmp…</div>
</body>
</html>
`
}
