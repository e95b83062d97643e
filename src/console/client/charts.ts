/**
 * Two small SVG charts drawn here (bars, stacked or not, and lines): about a hundred lines
 * instead of a charting library, no CDN, and they follow the page's colours. Each chart has a
 * text summary for screen readers.
 */
import { h, svg } from './dom.js'

export interface Series {
  label: string
  /** A CSS class that sets the colour (see style.css .s1…). */
  className: string
  values: Array<number | null>
}

const W = 600
const H = 170
const PAD = { left: 44, right: 8, top: 10, bottom: 22 }

function niceMax(max: number): number {
  if (max <= 0) return 1
  const power = 10 ** Math.floor(Math.log10(max))
  const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= max) ?? 10
  return step * power
}

function frame(title: string, summary: string, max: number, unit: string, xLabels: string[], body: SVGElement[], legend: Series[]): HTMLElement {
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const grid = [0, 0.5, 1].map((f) => {
    const y = PAD.top + plotH * (1 - f)
    return [svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }), svg('text', { x: PAD.left - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' }, `${formatNumber(max * f)}${f === 1 ? unit : ''}`)]
  })
  const ticks = xLabels.map((label, i) => svg('text', { x: PAD.left + (plotW * i) / Math.max(1, xLabels.length - 1), y: H - 6, class: 'axis', 'text-anchor': i === 0 ? 'start' : i === xLabels.length - 1 ? 'end' : 'middle' }, label))
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', null, title, legend.length > 1 ? h('span', { class: 'legend' }, legend.map((s) => h('span', { class: `key ${s.className}` }, s.label))) : null),
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}: ${summary}` }, grid.flat(), body, ticks),
  )
}

function formatNumber(n: number): string {
  if (n >= 1000) return `${Math.round(n / 100) / 10}k`
  return String(Math.round(n * 10) / 10)
}

/** Bars per point; with several series they stack. */
export function barChart(title: string, summary: string, series: Series[], xLabels: string[], unit = ''): HTMLElement {
  const n = series[0]?.values.length ?? 0
  const totals = Array.from({ length: n }, (_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0))
  const max = niceMax(Math.max(0, ...totals))
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const barW = plotW / Math.max(1, n)
  const bars: SVGElement[] = []
  for (let i = 0; i < n; i++) {
    let y = PAD.top + plotH
    for (const s of series) {
      const v = s.values[i] ?? 0
      if (v <= 0) continue
      const height = (v / max) * plotH
      y -= height
      bars.push(svg('rect', { x: PAD.left + i * barW + barW * 0.1, y, width: Math.max(1, barW * 0.8), height, class: s.className }, svg('title', null, `${s.label}: ${v}`)))
    }
  }
  return frame(title, summary, max, unit, xLabels, bars, series)
}

/** Lines (gaps where a value is null). */
export function lineChart(title: string, summary: string, series: Series[], xLabels: string[], unit = ''): HTMLElement {
  const n = series[0]?.values.length ?? 0
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))))
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const x = (i: number) => PAD.left + (plotW * (i + 0.5)) / Math.max(1, n)
  const y = (v: number) => PAD.top + plotH * (1 - v / max)
  const paths = series.map((s) => {
    let d = ''
    let pen = false
    s.values.forEach((v, i) => {
      if (v === null) {
        pen = false
        return
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)} `
      pen = true
    })
    const dots = s.values.flatMap((v, i) => (v === null ? [] : [svg('circle', { cx: x(i), cy: y(v), r: 2, class: s.className }, svg('title', null, `${s.label}: ${v}${unit}`))]))
    return [svg('path', { d: d.trim(), class: `line ${s.className}` }), ...dots]
  })
  return frame(title, summary, max, unit, xLabels, paths.flat(), series)
}
