/**
 * Table and schema names are interpolated into SQL (placeholders cannot name them), so only
 * plain identifiers pass: letters, digits and underscores, optionally one `schema.` in front.
 */
export function checkSqlIdentifier(what: 'table' | 'schema', name: string, allowSchema = false): string {
  const part = '[A-Za-z_][A-Za-z0-9_]{0,62}'
  const pattern = new RegExp(allowSchema ? `^(${part}\\.)?${part}$` : `^${part}$`)
  if (typeof name !== 'string' || !pattern.test(name)) {
    throw new TypeError(
      `${what} name ${JSON.stringify(name)} is not a plain SQL identifier: use letters, digits and underscores` +
        (allowSchema ? ', optionally prefixed by "schema."' : ''),
    )
  }
  return name
}
