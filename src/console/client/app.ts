/** What every page gets: the signed-in session and a way to show a short notice. */
export interface SessionInfo {
  user: string
  csrf: string
  /** The account on screen. */
  account: { name: string; appId: string | null; dev: boolean }
  /** Every account of the server; the switcher shows with two or more. */
  accounts: Array<{ name: string; path: string }>
  features: { api: boolean; rules: boolean; pending: boolean }
  /** rules-first, code-first or off (WXMP_RULES). */
  rulesOrder: string
  replyTimeoutMs: number
}

export interface App {
  session: SessionInfo
  /** A short notice at the top of the page (role=status, or alert for errors). */
  notify(text: string, kind?: 'ok' | 'error'): void
  /** Draw the current page again (after a language change). */
  rerender(): void
}

/** A page draws itself into `root` and returns its clean-up (timers, streams). */
export type Page = (root: HTMLElement, app: App, args: string[]) => () => void
