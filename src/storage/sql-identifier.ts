/**
 * Table names are interpolated into SQL (placeholders cannot name tables), so only plain
 * identifiers pass: letters, digits and underscores, optionally one `schema.` in front.
 */
export function checkTableName(name: string, allowSchema: boolean): string {
  const pattern = allowSchema ? /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/ : /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
  if (!pattern.test(name)) {
    throw new TypeError(
      `table name ${JSON.stringify(name)} is not a plain SQL identifier: use letters, digits and underscores` +
        (allowSchema ? ', optionally prefixed by "schema."' : ''),
    )
  }
  return name
}
