/**
 * The one Node global the shared menu checks use (src/api/menu-limits.ts counts UTF-8 bytes
 * with Buffer.byteLength): esbuild injects this twin, so the browser runs the very same checks.
 */
const encoder = new TextEncoder()
export const Buffer = {
  byteLength: (text: string, _encoding?: "utf8"): number => encoder.encode(text).length,
}
