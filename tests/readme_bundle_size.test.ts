/**
 * README.md's bundle sizes are true: `dist/lib` as scripts/build.ts writes it, and the chunks
 * `exec` and `credential-process` load (main.js's static imports plus the command's), each within
 * 25% of what the README says (close enough to notice a wrong order of magnitude, loose enough for
 * everyday growth).
 */
import assert from "node:assert/strict";
import { ROOT, run, tempDir } from "./support/run.ts";

/** The chunks `start` loads through static imports, itself included. */
function closure(lib: string, start: string, seen = new Set<string>()): Set<string> {
  if (seen.has(start)) return seen;
  seen.add(start);
  const text = Deno.readTextFileSync(`${lib}/${start}`);
  for (const [, name] of text.matchAll(/^import\s[^;]*?["']\.\/([^"']+)["']/gms)) closure(lib, name, seen);
  return seen;
}

function bytes(lib: string, files: Iterable<string>): number {
  return [...files].reduce((sum, file) => sum + Deno.statSync(`${lib}/${file}`).size, 0);
}

function near(actual: number, stated: number, what: string): void {
  assert.ok(Math.abs(actual - stated) / stated <= 0.25, `${what}: README says ${stated}, built ${actual}`);
}

Deno.test("README.md states the bundle's size and what exec and credential-process load", async () => {
  const dir = await tempDir();
  const built = await run(Deno.execPath(), ["run", "-A", `${ROOT}/scripts/build.ts`, "--out", `${dir}/dist`]);
  assert.equal(built.code, 0, built.stderr);
  const lib = `${dir}/dist/lib`;
  const files = [...Deno.readDirSync(lib)].map((entry) => entry.name);
  const readme = (await Deno.readTextFile(`${ROOT}/README.md`)).replace(/\s+/g, " ");
  const total = readme.match(/The bundle \(`dist\/lib`, as `make build` writes it\) is ([\d.]+) MB/)?.[1];
  assert.ok(total, "README.md states the size of dist/lib");
  near(bytes(lib, files) / 1e6, Number(total), "dist/lib in MB");
  const loads = readme.match(/`exec` (\d+) KB, `credential-process` (\d+) KB/);
  assert.ok(loads, "README.md states what exec and credential-process load");
  const command = (name: string) => files.find((file) => file.startsWith(`${name}-`))!;
  near(bytes(lib, closure(lib, command("exec"), closure(lib, "main.js"))) / 1e3, Number(loads[1]), "exec in KB");
  near(
    bytes(lib, closure(lib, command("credential_process"), closure(lib, "main.js"))) / 1e3,
    Number(loads[2]),
    "credential-process in KB",
  );
});
