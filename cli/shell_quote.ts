/**
 * POSIX shell quoting. A value in single quotes is literal to sh (which the JS, Go and Java
 * SDKs run credential_process through) and to Python's shlex.split (which botocore uses), so
 * paths with spaces, `=`, `$` or quotes survive both.
 *
 * @example
 * ```ts
 * shellQuote("/certs/my cert.pem"); // "'/certs/my cert.pem'"
 * shellQuote("it's"); // "'it'\\''s'"
 * ```
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
