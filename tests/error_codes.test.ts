/**
 * Errors form a closed set: every CertroleError's code is a key of ERROR_CODES and its exit code
 * comes from there (a free-form code, or an exit code passed by the caller, fails type checking);
 * every listed code is thrown somewhere; and DEVELOPERS.md's table says exactly what the list says.
 */
import assert from "node:assert/strict";
import { CertroleError, ERROR_CODES, type ErrorCode, fail } from "../cli/errors.ts";
import { ROOT } from "./support/run.ts";

Deno.test("the exit code is the list's, and only listed codes type-check", () => {
  for (const [code, { exit }] of Object.entries(ERROR_CODES)) {
    assert.equal(new CertroleError(code as ErrorCode, "x").exitCode, exit, code);
  }
  assert.throws(() => fail("InvalidSetting", "x"), (error: unknown) => (error as CertroleError).exitCode === 2);
  assert.equal(new CertroleError("CommandNotFound", "x").exitCode, 127);
  // `deno test` type-checks this file: these lines fail the run if a free-form code or a caller's exit code is accepted.
  // @ts-expect-error a code that is not in ERROR_CODES
  assert.throws(() => fail("SomethingNew", "x"));
  // @ts-expect-error callers do not choose exit codes
  assert.throws(() => fail("UsageError", "x", 1));
});

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

Deno.test("every listed code is thrown somewhere in cli/ (no dead rows)", async () => {
  const files = (await sourceFiles(`${ROOT}/cli`)).filter((path) => !path.endsWith("/cli/errors.ts"));
  const source = (await Promise.all(files.map((path) => Deno.readTextFile(path)))).join("\n");
  const unused = Object.keys(ERROR_CODES).filter((code) => !source.includes(`"${code}"`));
  assert.deepEqual(unused, [], "listed but never thrown: remove them from ERROR_CODES and DEVELOPERS.md");
});

Deno.test("DEVELOPERS.md's table of error codes is the list", async () => {
  const text = await Deno.readTextFile(`${ROOT}/DEVELOPERS.md`);
  const rows = [...text.matchAll(/^\| `(\w+)` +\| (\d+) +\| (.*?) +\|$/gm)]
    .map(([, code, exit, meaning]) => `| \`${code}\` | ${exit} | ${meaning.replaceAll("\\|", "|")} |`);
  const expected = Object.entries(ERROR_CODES).map(([code, { exit, meaning }]) =>
    `| \`${code}\` | ${exit} | ${meaning} |`
  );
  assert.deepEqual(rows, expected, `DEVELOPERS.md's rows should be (deno fmt aligns them):\n${expected.join("\n")}`);
});
