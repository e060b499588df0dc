/**
 * `make install` prints plain text when its output is not a terminal: run from a terminal with
 * its output sent to a file (as `make install | cat -v` or a CI log would take it), the file holds
 * no terminal escape sequences (the build's command runner wrote "\e[0G" cursor moves because
 * stdin was a terminal), and says what was installed.
 */
import assert from "node:assert/strict";
import { ROOT, tempDir } from "./support/run.ts";
import { runInTerminal } from "./support/terminal.ts";

Deno.test("make install from a terminal, output to a file: no escape sequences", async () => {
  const dir = await tempDir();
  const prefix = `${dir}/prefix`;
  const log = `${dir}/install.log`;
  const result = await runInTerminal(
    ["sh", "-c", `make --no-print-directory install PREFIX='${prefix}' >'${log}' 2>&1`],
    [],
    { cwd: ROOT },
  );
  const output = await Deno.readTextFile(log);
  assert.equal(result.code, 0, output);
  assert.ok(!output.includes("\x1b"), `escape sequences in: ${JSON.stringify(output)}`);
  assert.match(output, new RegExp(`^installed ${prefix}/bin/certrole$`, "m"));
});
