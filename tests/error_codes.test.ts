/**
 * Errors form a closed set: every CertroleError's code is a key of ERROR_CODES and its exit code
 * comes from there (a free-form code, or an exit code passed by the caller, fails type checking,
 * and every code cli/ passes to fail(), CertroleError or a helper taking an ErrorCode is read from
 * the source and looked up, casts or not); every listed code is thrown somewhere; DEVELOPERS.md's
 * table says exactly what the list says; and `certrole --help` explains exactly its exit statuses.
 */
import assert from "node:assert/strict";
import { CertroleError, ERROR_CODES, type ErrorCode, fail, INTERNAL_ERROR_EXIT } from "../cli/errors.ts";
import { certrole, ROOT } from "./support/run.ts";

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

/** The first argument of a call, from `start` (just after its "(") to its top-level comma. */
function firstArgument(source: string, start: number): string {
  let depth = 0;
  let quote = "";
  for (let i = start; i < source.length; i++) {
    const character = source[i];
    if (quote) {
      if (character === "\\") i++;
      else if (character === quote) quote = "";
    } else if (`"'\``.includes(character)) quote = character;
    else if ("([{".includes(character)) depth++;
    else if (")]}".includes(character) && depth-- === 0) return source.slice(start, i);
    else if (character === "," && depth === 0) return source.slice(start, i);
  }
  return source.slice(start);
}

/** Every error code cli/ passes, with where; and the arguments that are not string literals. */
async function codesUsed(): Promise<{ codes: Map<string, string>; indirect: string[] }> {
  const files = (await sourceFiles(`${ROOT}/cli`)).filter((path) => !path.endsWith("/cli/errors.ts"));
  const sources = await Promise.all(files.map(async (path) => [path, await Deno.readTextFile(path)] as const));
  // fail(), CertroleError, and whatever else takes an ErrorCode first (iam setup's refuse()).
  const callees = new Set(["fail", "CertroleError"]);
  for (const [, source] of sources) {
    for (const [, name] of source.matchAll(/(?:function |const )(\w+)(?: = )?\(\s*\w+: ErrorCode\b/g)) {
      callees.add(name);
    }
  }
  const codes = new Map<string, string>();
  const indirect: string[] = [];
  for (const [path, source] of sources) {
    const at = (index: number) => `${path.slice(ROOT.length + 1)}:${source.slice(0, index).split("\n").length}`;
    for (const match of source.matchAll(new RegExp(`\\b(${[...callees].join("|")})\\(`, "g"))) {
      const argument = firstArgument(source, match.index + match[0].length).trim();
      if (/^\w+: ErrorCode$/.test(argument)) continue; // the helper's own declaration
      const literals = [...argument.matchAll(/"(\w+)"/g)].map((literal) => literal[1]);
      if (literals.length === 0) indirect.push(`${at(match.index)}: ${match[1]}(${argument}, …)`);
      for (const code of literals) codes.set(code, at(match.index));
    }
    // Codes carried in a value before they are thrown (exec's command lookup): `code: "…"`.
    if (path.includes("/cli/emulator/")) continue; // the emulator's codes are AWS's, in its answers
    for (const match of source.matchAll(/\bcode: "(\w+)"/g)) codes.set(match[1], at(match.index));
  }
  return { codes, indirect };
}

Deno.test("every code cli/ passes is in ERROR_CODES, whatever the type checker was told", async () => {
  const { codes, indirect } = await codesUsed();
  assert.ok(codes.size >= Object.keys(ERROR_CODES).length / 2, `found only ${codes.size} codes: is the scan broken?`);
  const unlisted = [...codes].filter(([code]) => !Object.hasOwn(ERROR_CODES, code)).map(([code, at]) =>
    `${at}: ${code}`
  );
  assert.deepEqual(unlisted, [], "add each code to ERROR_CODES (and DEVELOPERS.md's table), or use a listed one");
  // A code that is not a literal at the call must be a `code` forwarded from a value scanned above.
  const unknown = indirect.filter((call) => !/\((?:\w+\.)?code, …\)$/.test(call));
  assert.deepEqual(unknown, [], 'pass a literal code, or a `code` field set from literals (`code: "…"`)');
});

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

Deno.test("certrole --help explains exactly the exit statuses the list has", async () => {
  const help = await certrole(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  const section = help.stdout.slice(help.stdout.indexOf("Exit status:"));
  const documented = [...section.matchAll(/^ {2}(\d+) +\S/gm)].map(([, exit]) => Number(exit)).sort((a, b) => a - b);
  const expected = [...new Set([0, INTERNAL_ERROR_EXIT, ...Object.values(ERROR_CODES).map(({ exit }) => exit)])]
    .sort((a, b) => a - b);
  assert.deepEqual(documented, expected, section);
});
