/**
 * How keywords and messages are compared: Unicode NFKC (full-width letters, digits and
 * punctuation become their ASCII forms: "ＨＥＬＰ？" → "HELP?"), lower case, surrounding
 * spaces removed. The same function runs on both sides, so a keyword matches the way an
 * operator expects whatever keyboard the follower used.
 */
export function normaliseKeyword(text: string): string {
  return text.normalize('NFKC').toLowerCase().trim()
}

/** Messages longer than this are matched on their first part only (keywords and regexes). */
export const MATCH_INPUT_LIMIT = 2048

/** The normalised text of a message for matching, bounded to MATCH_INPUT_LIMIT characters. */
export function normaliseMessage(text: string): string {
  return normaliseKeyword(text.length > MATCH_INPUT_LIMIT ? text.slice(0, MATCH_INPUT_LIMIT) : text)
}
