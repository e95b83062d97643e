#!/usr/bin/env node
// Part of `npm run build` (after tsc): bundles the operator console's browser code into
// dist/console/assets with esbuild (a dev dependency) and prints the shipped sizes.
import { mkdirSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const { buildConsoleAssets, clientEntry } = await import('../dist/console/build-assets.js')
const assets = await buildConsoleAssets(clientEntry(new URL('..', import.meta.url).pathname))
const out = new URL('../dist/console/assets/', import.meta.url)
mkdirSync(out, { recursive: true })
let total = 0
let totalGzip = 0
for (const [name, body] of Object.entries(assets)) {
  writeFileSync(new URL(name, out), body)
  const gz = gzipSync(body, { level: 9 }).length
  total += body.length
  totalGzip += gz
  console.log(`console: dist/console/assets/${name} ${(body.length / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip`)
}
console.log(`console: ${(total / 1024).toFixed(1)} KiB in all, ${(totalGzip / 1024).toFixed(1)} KiB gzip`)
