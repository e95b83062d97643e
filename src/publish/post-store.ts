/**
 * What `wxmp publish` remembers between runs, in the records database (DATABASE_URL): which
 * draft and publish belong to which Markdown file (so a re-run updates the draft instead of
 * adding another), and the images already uploaded, by content hash (so a re-run uploads
 * only what changed). Tables from migration 2.
 */
import { runMigrations } from '../records/migrations.js'
import { PostgresDatabase, SqliteDatabase, type SqlDatabase } from '../records/sql-database.js'
import { parseStorageUrl } from '../storage/storage-url.js'

export type PostStatus = 'draft' | 'publishing' | 'published' | 'failed'

export interface PostRecord {
  appId: string
  /** The post's absolute path. */
  source: string
  title: string
  contentHash: string
  mediaId: string | undefined
  publishId: string | undefined
  articleId: string | undefined
  articleUrl: string | undefined
  status: PostStatus
  failure: string | undefined
  updatedAt: number
}

export interface UploadedImage {
  url: string | undefined
  mediaId: string | undefined
}

type Row = Record<string, unknown>
const text = (v: unknown) => (v === null || v === undefined ? undefined : String(v))

function fromRow(row: Row): PostRecord {
  return {
    appId: String(row.app_id),
    source: String(row.source),
    title: String(row.title),
    contentHash: String(row.content_hash),
    mediaId: text(row.media_id),
    publishId: text(row.publish_id),
    articleId: text(row.article_id),
    articleUrl: text(row.article_url),
    status: String(row.status) as PostStatus,
    failure: text(row.failure),
    updatedAt: Number(row.updated_at),
  }
}

export class PostStore {
  private constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => number,
  ) {}

  /** Opens DATABASE_URL (sqlite:, postgres:, memory:) and applies pending migrations. */
  static async open(databaseUrl: string, now: () => number = Date.now): Promise<PostStore> {
    const target = parseStorageUrl(databaseUrl, 'DATABASE_URL', ['sqlite', 'postgres', 'memory'])
    const db: SqlDatabase = target.kind === 'postgres' ? new PostgresDatabase(target.url) : new SqliteDatabase(target.kind === 'sqlite' ? target.filename : ':memory:')
    try {
      await runMigrations(db, now)
    } catch (err) {
      await db.close().catch(() => undefined)
      throw err
    }
    return new PostStore(db, now)
  }

  async get(appId: string, source: string): Promise<PostRecord | undefined> {
    const [row] = await this.db.all('SELECT * FROM wxmp_posts WHERE app_id = ? AND source = ?', [appId, source])
    return row === undefined ? undefined : fromRow(row)
  }

  /** The post a draft media id belongs to (for `wxmp draft delete`). */
  async byMediaId(appId: string, mediaId: string): Promise<PostRecord | undefined> {
    const [row] = await this.db.all('SELECT * FROM wxmp_posts WHERE app_id = ? AND media_id = ?', [appId, mediaId])
    return row === undefined ? undefined : fromRow(row)
  }

  async put(record: Omit<PostRecord, 'updatedAt'>): Promise<void> {
    const values = [record.title, record.contentHash, record.mediaId ?? null, record.publishId ?? null, record.articleId ?? null, record.articleUrl ?? null, record.status, record.failure ?? null, this.now()]
    const changed = await this.db.run(
      'UPDATE wxmp_posts SET title = ?, content_hash = ?, media_id = ?, publish_id = ?, article_id = ?, article_url = ?, status = ?, failure = ?, updated_at = ? WHERE app_id = ? AND source = ?',
      [...values, record.appId, record.source],
    )
    if (changed === 0) {
      await this.db.run(
        'INSERT INTO wxmp_posts (title, content_hash, media_id, publish_id, article_id, article_url, status, failure, updated_at, app_id, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [...values, record.appId, record.source],
      )
    }
  }

  /** Forgets the draft of a post whose draft was deleted. */
  async forgetDraft(appId: string, mediaId: string): Promise<void> {
    await this.db.run("UPDATE wxmp_posts SET media_id = NULL, updated_at = ? WHERE app_id = ? AND media_id = ? AND status IN ('draft', 'failed')", [this.now(), appId, mediaId])
  }

  async image(appId: string, sha256: string, kind: 'body' | 'cover'): Promise<UploadedImage | undefined> {
    const [row] = await this.db.all('SELECT url, media_id FROM wxmp_post_images WHERE app_id = ? AND sha256 = ? AND kind = ?', [appId, sha256, kind])
    return row === undefined ? undefined : { url: text(row.url), mediaId: text(row.media_id) }
  }

  async putImage(appId: string, sha256: string, kind: 'body' | 'cover', image: UploadedImage): Promise<void> {
    await this.db.run('DELETE FROM wxmp_post_images WHERE app_id = ? AND sha256 = ? AND kind = ?', [appId, sha256, kind])
    await this.db.run('INSERT INTO wxmp_post_images (app_id, sha256, kind, url, media_id, uploaded_at) VALUES (?, ?, ?, ?, ?, ?)', [appId, sha256, kind, image.url ?? null, image.mediaId ?? null, this.now()])
  }

  /** Forgets an uploaded image (its material was deleted). */
  async forgetImageByMediaId(appId: string, mediaId: string): Promise<void> {
    await this.db.run('DELETE FROM wxmp_post_images WHERE app_id = ? AND media_id = ?', [appId, mediaId])
  }

  /**
   * The result of a publish job as the webhook recorded it (a PUBLISHJOBFINISH event in the
   * server's message log, same database), or undefined when none arrived yet.
   */
  async publishEvent(publishId: string, since: number): Promise<string | undefined> {
    const rows = await this.db.all("SELECT raw_xml FROM wxmp_messages WHERE event = 'PUBLISHJOBFINISH' AND received_at >= ? ORDER BY id DESC LIMIT 50", [since])
    const wanted = new RegExp(`<publish_id>(<!\\[CDATA\\[)?${publishId}(\\]\\]>)?</publish_id>`)
    return rows.map((r) => String(r.raw_xml)).find((xml) => wanted.test(xml))
  }

  close(): Promise<void> {
    return this.db.close()
  }
}
