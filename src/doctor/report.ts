/**
 * What `wxmp doctor` found: one row per check, printed as a ✓/✗ checklist with one line of
 * advice under each ✗, or as JSON for scripts.
 */

/** ok ✓, fail ✗ (exit code 1), skip – (not applicable here: said why), info – (a fact, not a fault). */
export type CheckStatus = 'ok' | 'fail' | 'skip' | 'info'

export interface CheckResult {
  /** Stable id for scripts: `verify`, `post`, `clock`, `token`, … */
  id: string
  /** Short title shown in the checklist. */
  title: string
  status: CheckStatus
  /** What was found, one line. */
  detail: string
  /** What to do about it (for `fail`, always set). */
  advice?: string
}

export interface DoctorReport {
  ok: boolean
  /** The webhook URL checked. */
  url: string
  /** The mode the POST round trip used: plain, compat or safe. */
  mode: string
  checks: CheckResult[]
}

const MARK: Record<CheckStatus, string> = { ok: '✓', fail: '✗', skip: '–', info: '–' }

export function formatReport(report: DoctorReport): string[] {
  const width = Math.max(...report.checks.map((c) => c.title.length)) + 2
  const lines = [`wxmp doctor — ${report.url} in ${report.mode}, as WeChat sees it`, '']
  for (const check of report.checks) {
    lines.push(`${MARK[check.status]} ${check.title.padEnd(width)}${check.detail}`)
    if (check.advice !== undefined && check.status !== 'ok') lines.push(`  ${' '.repeat(width)}→ ${check.advice}`)
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length
  const counted = report.checks.filter((c) => c.status === 'ok' || c.status === 'fail').length
  lines.push('', failed === 0 ? `all ${counted} checks passed` : `${failed} of ${counted} checks failed`)
  return lines
}
