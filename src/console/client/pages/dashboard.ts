/** The last hour per minute, and the health of what the webhook depends on. Refreshes every 15 s. */
import { get } from '../api.js'
import type { Page } from '../app.js'
import { barChart, lineChart } from '../charts.js'
import { h, replace } from '../dom.js'
import { t } from '../i18n.js'

interface Minute {
  t: number
  messages: number
  passive: number
  customerService: number
  pending: number
  failed: number
  none: number
  deadlineMisses: number
  p50: number | null
  p99: number | null
}
interface Check {
  ok: boolean
  ms?: number
  detail?: string
  kind?: string
  expiresInMin?: number
}
interface Dashboard {
  minutes: Minute[]
  health: { database: Check; redis: Check | null; token: Check | null; sharedStore: string }
}

export const dashboardPage: Page = (root, app) => {
  const health = h('div', { class: 'health', role: 'list' })
  const charts = h('div', { class: 'charts' })
  replace(root, h('div', { class: 'dashboard' }, h('h2', { class: 'visually-hidden' }, t('nav.dashboard')), health, charts))

  const card = (title: string, check: Check | null, ok: () => string) =>
    h(
      'div',
      { class: `card health-card ${check === null ? 'off' : check.ok ? 'ok' : 'bad'}`, role: 'listitem' },
      h('div', { class: 'card-title' }, title),
      h('div', { class: 'health-state' }, check === null ? t('health.notConfigured') : check.ok ? ok() : t('health.down')),
      check?.ms === undefined ? null : h('div', { class: 'muted' }, `${check.ms} ms`),
      check !== null && !check.ok && check.detail ? h('div', { class: 'muted detail' }, check.detail) : null,
    )

  async function load(): Promise<void> {
    let d: Dashboard
    try {
      d = await get<Dashboard>('/dashboard')
    } catch {
      app.notify(t('app.loadFailed'), 'error')
      return
    }
    replace(
      health,
      card(t('health.database'), d.health.database, () => `${t('health.ok')} · ${d.health.database.kind ?? ''}`),
      card('Redis', d.health.redis, () => t('health.ok')),
      card(t('health.token'), d.health.token, () => (d.health.token?.expiresInMin === undefined ? t('health.ok') : t('health.tokenExpires', { n: d.health.token.expiresInMin }))),
      h('div', { class: 'card health-card info', role: 'listitem' }, h('div', { class: 'card-title' }, t('health.sharedStore')), h('div', { class: 'health-state' }, d.health.sharedStore)),
    )
    const m = d.minutes
    const labels = [t('chart.minutesAgo', { n: 60 }), t('chart.minutesAgo', { n: 45 }), t('chart.minutesAgo', { n: 30 }), t('chart.minutesAgo', { n: 15 }), t('chart.now')]
    const total = m.reduce((s, x) => s + x.messages, 0)
    const misses = m.reduce((s, x) => s + x.deadlineMisses, 0)
    const p99s = m.map((x) => x.p99).filter((v): v is number => v !== null)
    replace(
      charts,
      barChart(t('chart.messages'), t('chart.messagesSummary', { n: total }), [{ label: t('chart.messages'), className: 's1', values: m.map((x) => x.messages) }], labels),
      barChart(
        t('chart.routes'),
        t('chart.routesSummary', { passive: sum(m, 'passive'), cs: sum(m, 'customerService'), pending: sum(m, 'pending'), failed: sum(m, 'failed') }),
        [
          { label: t('via.passive'), className: 's1', values: m.map((x) => x.passive) },
          { label: t('via.customer-service'), className: 's2', values: m.map((x) => x.customerService) },
          { label: t('via.pending'), className: 's3', values: m.map((x) => x.pending) },
          { label: t('status.failed'), className: 's4', values: m.map((x) => x.failed) },
          { label: t('via.none'), className: 's5', values: m.map((x) => x.none) },
        ],
        labels,
      ),
      barChart(t('chart.misses'), t('chart.missesSummary', { n: misses }), [{ label: t('chart.misses'), className: 's4', values: m.map((x) => x.deadlineMisses) }], labels),
      lineChart(
        t('chart.latency'),
        t('chart.latencySummary', { p99: p99s.length === 0 ? '—' : Math.max(...p99s) }),
        [
          { label: 'p50', className: 's1', values: m.map((x) => x.p50) },
          { label: 'p99', className: 's2', values: m.map((x) => x.p99) },
        ],
        labels,
        ' ms',
      ),
    )
  }

  void load()
  const timer = window.setInterval(() => void load(), 15_000)
  return () => clearInterval(timer)
}

function sum(m: Minute[], key: 'passive' | 'customerService' | 'pending' | 'failed'): number {
  return m.reduce((s, x) => s + x[key], 0)
}
