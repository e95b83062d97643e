import { optionalString, requireCount, requireOneOf, requireString, requireTimeMs } from './check.js'
import type { SqlDatabase, SqlParam } from './sql-database.js'

export const FOLLOWER_EVENTS = ['subscribe', 'unsubscribe'] as const
export type FollowerEvent = (typeof FOLLOWER_EVENTS)[number]

export interface FollowerChange {
  appId: string
  openid: string
  event: FollowerEvent
  /** Unix milliseconds (WeChat's CreateTime × 1000). */
  at: number
  /** Where the follow came from, e.g. the `qrscene_` value of a parameterised QR code. */
  scene?: string | null | undefined
  /** The account's short name (several accounts in one server). Default `default`. */
  account?: string | undefined
}

export interface FollowerState {
  appId: string
  openid: string
  subscribed: boolean
  scene: string | null
  subscribedAt: number | null
  unsubscribedAt: number | null
}

export interface FollowerStats {
  /** Followers whose latest event is subscribe. */
  subscribed: number
  /** Followers whose latest event is unsubscribe. */
  unsubscribed: number
  /** Events at or after `since` (default: the last 24 hours). */
  window: { since: number; subscribe: number; unsubscribe: number }
  /** The latest changes, newest first. */
  recent: (FollowerChange & { scene: string | null })[]
}

export interface FollowerStatsQuery {
  appId?: string
  /** Only this account's followers (by its short name). */
  account?: string
  /** How many recent changes to list. Default 10, at most 1000. */
  recent?: number
  /** Start of the counting window, Unix ms. Default: 24 hours ago. */
  since?: number
}

const INSERT_EVENT = `INSERT INTO wxmp_follower_events (app_id, openid, event, at, scene, account) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (app_id, openid, event, at) DO NOTHING`
// The latest event by WeChat's time wins, so a late-delivered older event cannot flip the state back.
const UPSERT_STATE = `INSERT INTO wxmp_followers AS f
  (app_id, openid, subscribed, scene, subscribed_at, unsubscribed_at, changed_at, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (app_id, openid) DO UPDATE SET
    account = excluded.account,
    subscribed = excluded.subscribed,
    scene = CASE WHEN excluded.subscribed = 1 THEN excluded.scene ELSE f.scene END,
    subscribed_at = COALESCE(excluded.subscribed_at, f.subscribed_at),
    unsubscribed_at = COALESCE(excluded.unsubscribed_at, f.unsubscribed_at),
    changed_at = excluded.changed_at
  WHERE excluded.changed_at >= f.changed_at`

/**
 * Followers: every subscribe and unsubscribe with its time and scene, and each follower's
 * current state.
 *
 * @example
 * bot.on('event:subscribe', async (ctx) => {
 *   await records.followers.record({ appId, openid: ctx.openid, event: 'subscribe',
 *     at: ctx.message.CreateTime * 1000, scene: ctx.message.EventKey })
 * })
 * const { subscribed, window } = await records.followers.stats()
 */
export class Followers {
  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one change; returns false when the same event was already recorded (a retry). */
  async record(change: FollowerChange): Promise<boolean> {
    const appId = requireString('appId', change.appId)
    const openid = requireString('openid', change.openid)
    if (openid === '') throw new TypeError('openid must not be empty')
    const event = requireOneOf('event', change.event, FOLLOWER_EVENTS)
    const at = requireTimeMs('at', change.at)
    const scene = optionalString('scene', change.scene)
    const account = change.account === undefined ? 'default' : requireString('account', change.account)
    const subscribed = event === 'subscribe'
    const [inserted] = await this.db.batch([
      { sql: INSERT_EVENT, params: [appId, openid, event, at, scene, account] },
      {
        sql: UPSERT_STATE,
        params: [appId, openid, subscribed ? 1 : 0, subscribed ? scene : null, subscribed ? at : null, subscribed ? null : at, at, account],
      },
    ])
    return inserted === 1
  }

  async get(appId: string, openid: string): Promise<FollowerState | undefined> {
    const [row] = await this.db.all(
      'SELECT app_id, openid, subscribed, scene, subscribed_at, unsubscribed_at FROM wxmp_followers WHERE app_id = ? AND openid = ?',
      [requireString('appId', appId), requireString('openid', openid)],
    )
    if (row === undefined) return undefined
    return {
      appId: row.app_id as string,
      openid: row.openid as string,
      subscribed: Number(row.subscribed) === 1,
      scene: row.scene as string | null,
      subscribedAt: row.subscribed_at === null ? null : Number(row.subscribed_at),
      unsubscribedAt: row.unsubscribed_at === null ? null : Number(row.unsubscribed_at),
    }
  }

  /** Counts now, changes in a window, and the latest changes. */
  async stats(query: FollowerStatsQuery = {}): Promise<FollowerStats> {
    const limit = requireCount('recent', query.recent ?? 10, 0, 1000)
    const since = query.since === undefined ? this.now() - 24 * 3600_000 : requireCount('since', query.since, 0, Number.MAX_SAFE_INTEGER)
    const app = query.appId === undefined ? null : requireString('appId', query.appId)
    const account = query.account === undefined ? null : requireString('account', query.account)
    const appFilter = (app === null ? '' : ' AND app_id = ?') + (account === null ? '' : ' AND account = ?')
    const appParams: SqlParam[] = [...(app === null ? [] : [app]), ...(account === null ? [] : [account])]

    const states = await this.db.all<{ subscribed: number; n: number }>(
      `SELECT subscribed, COUNT(*) AS n FROM wxmp_followers WHERE 1 = 1${appFilter} GROUP BY subscribed`,
      appParams,
    )
    const events = await this.db.all<{ event: FollowerEvent; n: number }>(
      `SELECT event, COUNT(*) AS n FROM wxmp_follower_events WHERE at >= ?${appFilter} GROUP BY event`,
      [since, ...appParams],
    )
    const recent =
      limit === 0
        ? []
        : await this.db.all(
            `SELECT app_id, openid, event, at, scene, account FROM wxmp_follower_events WHERE 1 = 1${appFilter} ORDER BY at DESC, id DESC LIMIT ?`,
            [...appParams, limit],
          )
    const count = <R extends { n: number }>(rows: R[], match: (r: R) => boolean) => Number(rows.find(match)?.n ?? 0)
    return {
      subscribed: count(states, (r) => Number(r.subscribed) === 1),
      unsubscribed: count(states, (r) => Number(r.subscribed) === 0),
      window: {
        since,
        subscribe: count(events, (r) => r.event === 'subscribe'),
        unsubscribe: count(events, (r) => r.event === 'unsubscribe'),
      },
      recent: recent.map((r) => ({
        appId: r.app_id as string,
        openid: r.openid as string,
        event: r.event as FollowerEvent,
        at: Number(r.at),
        scene: r.scene as string | null,
        account: r.account as string,
      })),
    }
  }
}
