/**
 * The safe-regex guard for `regex` rules. A follower controls the text a rule's regular
 * expression runs on, and JavaScript cannot interrupt a running match, so a pattern that
 * backtracks catastrophically would freeze the server. Patterns are checked when a rule is
 * saved (never per message):
 *
 * - scslre (the analysis behind eslint-plugin-regexp's no-super-linear-backtracking) finds
 *   quantifiers that trade characters with each other or with themselves: `(a+)+`, `\d+\d+x`,
 *   `(\w+\s?)*$` — exponential or polynomial backtracking. Refused, with its fix when it has one.
 * - It does not look at alternatives that can match the same text under a repetition, the other
 *   exponential shape (`(a|aa)+`, `(x|x)*y`): refused here when two alternatives of an unbounded
 *   repetition can start with the same character, or one can be empty.
 * - Backreferences (`\1`, `\k<name>`) are refused: matching them is not bounded by any analysis.
 *
 * What remains is at worst quadratic in the text (the engine trying each start position), and
 * the text is bounded: a rule sees the first MATCH_INPUT_LIMIT (2 048) characters of a message.
 * The analysers (about 2 MB) are loaded on first use: a bot without regex rules never loads them.
 */
import type { AST } from '@eslint-community/regexpp'

export const REGEX_MAX_PATTERN_LENGTH = 500
export const REGEX_FLAGS = /^(?!.*(.).*\1)[imsu]*$/

/** Compiles a pattern the way the engine runs it (no `g`/`y`: `test` keeps no state). */
export function compileRuleRegex(pattern: string, flags = ''): RegExp {
  return new RegExp(pattern, flags)
}

/**
 * Why the pattern is refused, or undefined when it is safe to run on follower text. Throws
 * nothing for a bad pattern: a syntax error is a reason too.
 */
export async function regexProblem(pattern: string, flags = ''): Promise<string | undefined> {
  if (pattern.length === 0) return 'must not be empty'
  if (pattern.length > REGEX_MAX_PATTERN_LENGTH) return `is ${pattern.length} characters; at most ${REGEX_MAX_PATTERN_LENGTH}`
  if (!REGEX_FLAGS.test(flags)) return `flags ${JSON.stringify(flags)}: use any of i, m, s, u, each once`
  try {
    compileRuleRegex(pattern, flags)
  } catch (err) {
    return `is not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`
  }
  const [{ analyse }, analysis] = await Promise.all([import('scslre'), import('regexp-ast-analysis')])
  let result: ReturnType<typeof analyse>
  try {
    result = analyse({ source: pattern, flags }, { reportTypes: { Move: false }, maxReports: 1 })
  } catch (err) {
    return `cannot be analysed for safety (${(err as Error).message}); write it more simply`
  }
  const report = result.reports[0]
  if (report !== undefined) {
    const fix = report.fix()
    // scslre fixes one cause at a time: suggest its fix only when nothing else is left in it
    const safeFix = fix !== undefined && analyse(fix, { reportTypes: { Move: false }, maxReports: 1 }).reports.length === 0 ? fix.source : undefined
    const shape = report.exponential ? 'exponential' : 'polynomial'
    return `can backtrack catastrophically (${shape} time on text like "${report.character.pick.repeat(8)}…")${safeFix === undefined ? '' : `; an equivalent safe pattern is ${safeFix}`}`
  }
  return unsafeShape(result.parsed.pattern, result.parsed.flags, analysis)
}

type Analysis = typeof import('regexp-ast-analysis')

/** Backreferences and ambiguous alternatives under an unbounded repetition. */
function unsafeShape(pattern: AST.Pattern, flags: AST.Flags, analysis: Analysis): string | undefined {
  let problem: string | undefined
  const visit = (node: AST.Node, repeated: boolean): void => {
    if (problem !== undefined) return
    switch (node.type) {
      case 'Backreference':
        problem = `uses a backreference (${node.raw}), which cannot be matched in bounded time: refused`
        return
      case 'Quantifier':
        visit(node.element, repeated || node.max === Infinity)
        return
      case 'Group':
      case 'CapturingGroup':
      case 'Pattern':
        if (repeated && node.alternatives.length > 1) problem = ambiguity(node.alternatives, flags, analysis)
        for (const alternative of node.alternatives) visit(alternative, repeated)
        return
      case 'Alternative':
        for (const element of node.elements) visit(element, repeated)
        return
      case 'Assertion':
        if (node.kind === 'lookahead' || node.kind === 'lookbehind') for (const alternative of node.alternatives) visit(alternative, false)
        return
      default:
        return
    }
  }
  visit(pattern, false)
  return problem
}

function ambiguity(alternatives: AST.Alternative[], flags: AST.Flags, analysis: Analysis): string | undefined {
  const firsts = alternatives.map((a) => analysis.getFirstConsumedChar(a, 'ltr', flags))
  for (let i = 0; i < firsts.length; i++) {
    const a = firsts[i]!
    if (a.empty) return `has an alternative that can match nothing (${alternatives[i]!.raw || '(empty)'}) inside a repetition: exponential backtracking; refused`
    for (let j = i + 1; j < firsts.length; j++) {
      if (!a.char.isDisjointWith(firsts[j]!.char)) {
        return `has alternatives that can start the same way (${alternatives[i]!.raw}|${alternatives[j]!.raw}) inside a repetition: exponential backtracking; refused (factor the common start out of the group)`
      }
    }
  }
  return undefined
}
