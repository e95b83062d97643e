/** What every page gets: the signed-in session and a way to show a short notice. */
export interface SessionInfo {
  user: string
  csrf: string
  account: { appId: string | null; dev: boolean }
  features: { api: boolean; rules: boolean; pending: boolean }
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
