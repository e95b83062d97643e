/**
 * Bundles the console's browser code (src/console/client, TypeScript, no framework) into one
 * script and one stylesheet with esbuild. `npm run build` writes them to dist/console/assets;
 * a server running from the TypeScript sources (tests, `tsx`) builds them in memory instead.
 * esbuild is a development dependency: a plain library install never loads this file.
 */
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

export interface BuiltAssets {
  'app.js': Buffer
  'app.css': Buffer
}

const here = dirname(fileURLToPath(import.meta.url))

/** The client entry; from dist/console it is the source tree's copy. */
export function clientEntry(root = join(here, '..', '..')): string {
  return join(root, 'src', 'console', 'client', 'main.ts')
}

export async function buildConsoleAssets(entry = clientEntry()): Promise<BuiltAssets> {
  const esbuild = await import('esbuild')
  const result = await esbuild.build({
    entryPoints: { app: entry },
    bundle: true,
    write: false,
    outdir: '/console-assets',
    format: 'iife',
    platform: 'browser',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    // menu-limits.ts counts UTF-8 bytes with Buffer.byteLength: the browser gets a TextEncoder twin
    inject: [join(dirname(entry), 'buffer-shim.ts')],
    logLevel: 'silent',
  })
  const pick = (ext: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext))
    if (file === undefined) throw new Error(`esbuild produced no ${ext} for the console`)
    return Buffer.from(file.contents)
  }
  return { 'app.js': pick('.js'), 'app.css': pick('.css') }
}
