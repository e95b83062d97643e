/**
 * Replies without code (`wxmp/rules`): rules that answer keywords, follows, menu clicks, scans
 * and message types, stored in SQL with a version so every instance follows a change within
 * a second, and imported from the MP console's own settings. See docs/rules.md.
 *
 * @example
 * import { openRuleStore, LiveRules, rules } from 'wxmp/rules'
 * const store = await openRuleStore(process.env.DATABASE_URL ?? 'sqlite:./data/wxmp.db', { appId })
 * bot.use(rules(await LiveRules.start(store)))          // before the code handlers
 * bot.on('text', (ctx) => ctx.reply('…'))                // what the rules leave
 */
export { rules, RULE_STATE_KEY, type RulesOptions, type RulesSource } from './middleware.js'
export { compileRules, assignPriorities, PRIORITY_STEP } from './compile.js'
export { RuleSet, type Candidate, type CompiledRule } from './rule-set.js'
export { LiveRules, type LiveRulesOptions, type VersionedRules } from './live.js'
export { RuleStore, openRuleStore, type OpenRuleStoreOptions, type RuleStoreOptions, type RulePatch, type RulesImportOptions, type RulesImportResult } from './store.js'
export { checkRules, formatProblem, RuleValidationError, LIMITS as RULE_LIMITS, type CheckedRule, type RuleProblem } from './validate.js'
export { explain, testMessage, type RuleTestInput, type RuleTestResult } from './explain.js'
export { formatRulesFile, parseRulesText, readRulesFile, type RulesFileFormat } from './file.js'
export { regexProblem } from './regex-guard.js'
export { PLACEHOLDERS, describeRuleReply } from './render.js'
export { normaliseKeyword } from './text.js'
export * from './types.js'
export { describeRule, describeTrigger, describeReply, describeConditions } from './describe.js'
export { readConsole, importConsole, apiConsoleMedia, type ConsoleImportPlan, type ConsoleMedia } from './console-import.js'
export { convertConsole, CONSOLE_DEFAULT_COOLDOWN_SEC, type ConsoleConversion, type ConsoleSnapshot } from './console-convert.js'
