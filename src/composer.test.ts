import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Composer } from './composer.js'
import type { Context } from './context.js'

type Ctx = Context & { log_: string[] }

function ctxFor(message: Record<string, unknown>): Ctx {
  return { message, event: message.Event, log_: [] } as unknown as Ctx
}

const text = (Content: string) => ctxFor({ MsgType: 'text', Content, FromUserName: 'o1', ToUserName: 'gh_1', CreateTime: 1 })
const run = (c: Composer<Ctx>, ctx: Ctx) => c.middleware()(ctx, async () => void ctx.log_.push('end')) as Promise<void>

test('a handler that answers synchronously has run before the chain returns', () => {
  const bot = new Composer<Ctx>()
  bot.on('image', (ctx) => void ctx.log_.push('image'))
  bot.on('text', (ctx) => void ctx.log_.push(`text:${ctx.message.Content}`))
  const ctx = text('hi')
  const done = run(bot, ctx)
  assert.deepEqual(ctx.log_, ['text:hi'])
  assert.ok(done instanceof Promise)
  return done
})

test('middleware run in order; next() continues, awaiting what follows; unmatched falls through', async () => {
  const bot = new Composer<Ctx>()
  bot.use(async (ctx, next) => {
    ctx.log_.push('a1')
    await next()
    ctx.log_.push('a2')
  })
  bot.on('voice', (ctx) => void ctx.log_.push('voice'))
  bot.use(async (ctx, next) => {
    await new Promise((r) => setTimeout(r, 1))
    ctx.log_.push('b')
    return next()
  })
  const ctx = text('x')
  await run(bot, ctx)
  assert.deepEqual(ctx.log_, ['a1', 'b', 'end', 'a2'])
})

test('a synchronous throw or a rejection becomes a rejection of the chain', async () => {
  const sync = new Composer<Ctx>()
  sync.use(() => {
    throw new Error('sync boom')
  })
  await assert.rejects(run(sync, text('x')), /sync boom/)
  const later = new Composer<Ctx>()
  later.use(async () => Promise.reject(new Error('async boom')))
  await assert.rejects(run(later, text('x')), /async boom/)
  const inPredicate = new Composer<Ctx>()
  inPredicate.filter(() => {
    throw new Error('predicate boom')
  })
  await assert.rejects(run(inPredicate, text('x')), /predicate boom/)
})

test('calling next() twice is an error the second caller sees as a rejection', async () => {
  const bot = new Composer<Ctx>()
  let second: unknown
  bot.use(async (_ctx, next) => {
    await next()
    second = await next().then(() => 'resolved', (err: Error) => err.message)
  })
  bot.use((_ctx, next) => next())
  await run(bot, text('x'))
  assert.equal(second, 'next() called more than once in one middleware')
})

test('asynchronous predicates, thenables, hears, branch', async () => {
  const bot = new Composer<Ctx>()
  bot.filter(async (ctx) => ctx.message.MsgType === 'image', (ctx) => void ctx.log_.push('never'))
  bot.branch(
    (ctx) => Promise.resolve((ctx.message as { Content: string }).Content.startsWith('y')),
    (ctx, next) => (ctx.log_.push('yes'), next()),
    (ctx, next) => (ctx.log_.push('no'), next()),
  )
  bot.use((ctx, next) => ({ then: (resolve: (v: unknown) => void) => (ctx.log_.push('thenable'), next().then(resolve)) }))
  bot.hears(/^y(\d)$/, (ctx) => void ctx.log_.push(`heard ${(ctx.match as RegExpMatchArray)[1]}`))
  const yes = text('y7')
  await run(bot, yes)
  assert.deepEqual(yes.log_, ['yes', 'thenable', 'heard 7'])
  const no = text('n')
  await run(bot, no)
  assert.deepEqual(no.log_, ['no', 'thenable', 'end'])
})

test('errorBoundary catches errors inside it, not those after its next()', async () => {
  const bot = new Composer<Ctx>()
  const caught: string[] = []
  bot.errorBoundary((err) => void caught.push((err as Error).message), (ctx) => {
    if ((ctx.message as { Content: string }).Content === 'boom') throw new Error('inside')
    return (ctx as unknown as { next?: unknown }).next
  })
  await run(bot, text('boom'))
  assert.deepEqual(caught, ['inside'])
  const outer = new Composer<Ctx>()
  outer.errorBoundary(() => void caught.push('wrong'), (_ctx, next) => next())
  outer.use(() => {
    throw new Error('after')
  })
  await assert.rejects(run(outer, text('x')), /after/)
  assert.deepEqual(caught, ['inside'])
})
