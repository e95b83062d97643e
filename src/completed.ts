/**
 * The one settled promise that says "finished synchronously": a middleware chain returns it when
 * nothing in it awaited, and `ctx.reply()` returns it for a passive reply, so the core can tell
 * at once that the handlers are done (no promise per message, nothing tracked after the answer).
 * Not public API: code that awaits it just sees a resolved promise.
 */
export const COMPLETED: Promise<void> = Promise.resolve()
