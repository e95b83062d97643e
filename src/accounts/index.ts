/**
 * `wxmp/accounts`: several Official Accounts in one server. The accounts file (and the
 * environment-variable account) for your own tools, and the path table for the adapters.
 *
 * @example
 * import { loadAccounts, selectAccount, mountAccounts } from 'wxmp/accounts'
 * const { accounts } = await loadAccounts()
 * const shop = selectAccount(accounts, 'shop')
 */
export { loadAccounts, selectAccount, accountsFileOf, parseAccountsFile, DEFAULT_ACCOUNT, ACCOUNT_NAME } from './config.js'
export type { ResolvedAccount, LoadedAccounts, LoadAccountsOptions } from './config.js'
export { AccountTable, mountAccounts } from './table.js'
export type { MountedAccount, WebhookBot } from './table.js'
