/** The shared menu checks call Buffer.byteLength; in the page it is buffer-shim.ts (injected by esbuild). */
declare const Buffer: { byteLength(text: string, encoding?: "utf8"): number }
