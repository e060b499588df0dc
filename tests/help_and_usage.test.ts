/** Every command has help with worked examples; unknown commands and flags are one-line usage errors (exit 2). */
import assert from "node:assert/strict";
import { certrole } from "./support/run.ts";

Deno.test("certrole --help lists the commands, and each command's --help has flags and examples", async () => {
  const overview = await certrole(["--help"]);
  assert.equal(overview.code, 0);
  const commands = [...overview.stdout.matchAll(/^ {2}(\S+(?: [a-z-]+)?) {2,}/gm)].map((match) => match[1]);
  assert.ok(commands.includes("credential-process") && commands.includes("exec"), overview.stdout);
  for (const name of commands) {
    const help = await certrole([...name.split(" "), "--help"]);
    assert.equal(help.code, 0, `${name}: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^certrole ${name}: `));
    assert.match(help.stdout, /\nUsage: certrole /);
    assert.match(help.stdout, /\nExamples:\n {2}\S/, `${name} has examples`);
    const viaHelp = await certrole(["help", ...name.split(" ")]);
    assert.equal(viaHelp.stdout, help.stdout);
  }
});

Deno.test("unknown commands and flags, and missing flag values, are usage errors", async () => {
  const unknown = await certrole(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, 'certrole: unknown command "frobnicate": see certrole --help\n');
  const flag = await certrole(["read-certificate-data", "--cert", "x"]);
  assert.equal(flag.code, 2);
  assert.equal(flag.stderr, "certrole: unknown flag --cert for `certrole read-certificate-data`: see --help\n");
  const value = await certrole(["read-certificate-data", "--certificate"]);
  assert.equal(value.code, 2);
  assert.equal(value.stderr, "certrole: --certificate needs a value for `certrole read-certificate-data`\n");
  const version = await certrole(["version"]);
  assert.match(version.stdout, /^certrole \d+\.\d+\.\d+ \(deno 2\.9\.6\)\n$/);
});
