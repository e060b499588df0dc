/**
 * The scripts (bench.ts, fleet_simulation.ts) read the `export NAME=value` lines the emulator and
 * serve print as sh reads them: values shellQuote wrote with spaces, `$`, a backslash and single
 * quotes (written '\'') come back exactly as `eval` in sh gives them.
 */
import assert from "node:assert/strict";
import { shellQuote } from "../cli/shell_quote.ts";
import { parseExports } from "../scripts/export_lines.ts";
import { run } from "./support/run.ts";

const VALUES = {
  AWS_ENDPOINT_URL: "https://127.0.0.1:4599",
  AWS_CA_BUNDLE: "/tmp/it's a dir/ca.pem",
  AWS_SECRET_ACCESS_KEY: "a'b''c$HOME\\n`x`",
  AWS_DEFAULT_REGION: "us-east-1",
};

Deno.test("export lines: shellQuote's quoting is undone as sh undoes it", async () => {
  const text = [
    "# certrole emulator: a comment line",
    ...Object.entries(VALUES).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
  ]
    .join("\n") + "\n";
  const names = Object.keys(VALUES);
  const printed = await run("sh", [
    "-c",
    `eval "$1"; for name in ${names.join(" ")}; do eval "printf '%s\\0' \\"\\$$name\\""; done`,
    "sh",
    text,
  ]);
  assert.equal(printed.code, 0, printed.stderr);
  const bySh = Object.fromEntries(printed.stdout.split("\0").slice(0, -1).map((value, i) => [names[i], value]));
  assert.deepEqual(bySh, VALUES);
  assert.deepEqual(parseExports(text), VALUES);
});

Deno.test("export lines: a value that is not one sh word is refused without showing it", () => {
  assert.throws(() => parseExports("export AWS_SECRET_ACCESS_KEY='unterminated\n"), (error: Error) => {
    assert.equal(error.message, "export AWS_SECRET_ACCESS_KEY: its value is not one sh word");
    return true;
  });
});
