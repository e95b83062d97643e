import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_ACCOUNT } from '../accounts/config.js'
import { AccountUsageError, chooseAccount, ENV_ACCOUNT, takeAccountOptions, type CliAccount } from './account-option.js'

const account = (name: string) => ({ name, path: `/wechat/${name}`, config: {} }) as CliAccount

test('--account and --config are taken out of the arguments, in both spellings, anywhere before --', () => {
  assert.deepEqual(takeAccountOptions(['tail', '--account', 'shop', '-n', '5']), { account: 'shop', configFile: undefined, args: ['tail', '-n', '5'] })
  assert.deepEqual(takeAccountOptions(['--config=a.json', 'push', 'm.json', '--account=news']), { account: 'news', configFile: 'a.json', args: ['push', 'm.json'] })
  // after --, they are data: `wxmp send o… -- --account is a word`
  assert.deepEqual(takeAccountOptions(['o1', '--', '--account', 'x']), { account: undefined, configFile: undefined, args: ['o1', '--', '--account', 'x'] })
})

test('--account without a value, or twice with two values, is a usage error', () => {
  assert.throws(() => takeAccountOptions(['--account']), (err: unknown) => err instanceof AccountUsageError && /--account needs a value/.test(err.message))
  assert.throws(() => takeAccountOptions(['--account', '--json']), AccountUsageError)
  assert.throws(() => takeAccountOptions(['--account=']), AccountUsageError)
  assert.throws(() => takeAccountOptions(['--account', 'a', '--account', 'b']), /given twice/)
  assert.equal(takeAccountOptions(['--account', 'a', '--account=a']).account, 'a')
})

test('the only account is the default; several need --account, and the error lists the names', () => {
  assert.equal(chooseAccount([account('shop')], undefined, 'f.json').name, 'shop')
  const two = [account('shop'), account('news')]
  assert.throws(() => chooseAccount(two, undefined, 'f.json'), (err: unknown) => err instanceof AccountUsageError && err.message === 'f.json configures 2 accounts: pick one with --account <name> (shop, news)')
  assert.equal(chooseAccount(two, 'news', 'f.json').name, 'news')
  assert.throws(() => chooseAccount(two, 'city', 'f.json'), /no account named "city" in f.json: the accounts are shop, news$/)
  // the simulator's old --account (the 原始ID) is pointed at its new name
  assert.throws(() => chooseAccount(two, 'gh_0123456789ab', 'f.json'), /--original-id/)
})

test('the environment account is named as the accounts module names it', () => {
  assert.equal(ENV_ACCOUNT, DEFAULT_ACCOUNT)
})

test('the help of every command that takes --account says so, once', async () => {
  const { COMMANDS, main } = await import('./main.js')
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const out: string[] = []
    assert.equal(await main([name, '--help'], (l) => out.push(l)), 0)
    const mentions = out.join('\n').match(/^\s+--account\b/gm)?.length ?? 0
    assert.equal(mentions, spec.account === undefined ? 0 : 1, `wxmp ${name} --help`)
  }
  const overview: string[] = []
  await main(['help'], (l) => overview.push(l))
  assert.match(overview.join('\n'), /--account NAME/)
  assert.match(overview.join('\n'), /\n {2}accounts\s+the configured accounts/)
})
