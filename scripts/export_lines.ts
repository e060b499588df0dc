/**
 * Reads the `export NAME=value` lines `certrole emulator` and `certrole serve` print for `eval`,
 * as sh would: each value is shellQuote's output (bare, or in single quotes with every `'` written
 * `'\''`), so quoting is undone piece by piece rather than by trimming the outer quotes.
 *
 * @example
 * ```ts
 * parseExports("# a comment\nexport AWS_CA_BUNDLE='/tmp/it'\\''s/ca.pem'\nexport AWS_DEFAULT_REGION=us-east-1\n");
 * // { AWS_CA_BUNDLE: "/tmp/it's/ca.pem", AWS_DEFAULT_REGION: "us-east-1" }
 * ```
 */
export function parseExports(text: string): Record<string, string> {
  const exports: Record<string, string> = {};
  for (const [, name, word] of text.matchAll(/^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)) {
    // The value is left out of the message: it may be a secret key.
    if (!SH_WORD.test(word)) throw new Error(`export ${name}: its value is not one sh word`);
    let value = "";
    for (const [, quoted, escaped, bare] of word.matchAll(/'([^']*)'|\\(.)|([^'\\]+)/gs)) {
      value += quoted ?? escaped ?? bare;
    }
    exports[name] = value;
  }
  return exports;
}

/** Bare characters, '…' (literal, may hold spaces) and \x (x itself), in any order. */
const SH_WORD = /^(?:'[^']*'|\\.|[^'\\\s])*$/s;
