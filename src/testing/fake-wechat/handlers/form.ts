/** Reading a multipart upload the way WeChat does: no form or no file field → 41005. */
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'

export interface UploadedFile {
  filename: string
  /** Lower-case extension of the file name, '' when there is none. */
  ext: string
  contentType: string
  data: Buffer
}

/** The multipart form of a request, or WeChat's 41005 answer. */
export async function readForm(req: FakeRequest, state: FakeState): Promise<{ form: FormData } | { error: FakeResponse }> {
  const contentType = String(req.headers['content-type'] ?? '')
  if (!/^multipart\/form-data/i.test(contentType)) return { error: state.error(41005) }
  try {
    return { form: await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: req.body }).formData() }
  } catch {
    return { error: state.error(41005) }
  }
}

/** The file in `field` of a multipart request, or WeChat's 41005 answer. */
export async function readUpload(req: FakeRequest, state: FakeState, field = 'media'): Promise<{ file: UploadedFile; form: FormData } | { error: FakeResponse }> {
  const read = await readForm(req, state)
  if ('error' in read) return read
  const file = read.form.get(field)
  if (file === null || typeof file === 'string') return { error: state.error(41005) }
  const filename = file.name ?? ''
  return {
    form: read.form,
    file: {
      filename,
      ext: /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase() ?? '',
      contentType: file.type || 'application/octet-stream',
      data: Buffer.from(await file.arrayBuffer()),
    },
  }
}
