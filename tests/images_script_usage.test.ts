/**
 * `make images` usage: ARGS=--help prints the options (the offline target's too) and exits 0;
 * an unknown option, a short image name or a bad --mode is one line naming the fix, exit 2, never
 * a stack trace, and nothing is built.
 */
import assert from "node:assert/strict";
import { ROOT, run } from "./support/run.ts";

function images(args: string[]) {
  return run(Deno.execPath(), ["run", "--allow-all", `${ROOT}/scripts/images.ts`, ...args], { cwd: ROOT });
}

Deno.test("make images ARGS=--help prints the options", async () => {
  const result = await run("make", ["--no-print-directory", "images", "ARGS=--help"], { cwd: ROOT });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Usage: make images/);
  for (
    const option of ["--engine", "--mode bundle\\|compile", "--variant", "--base", "--deno-image", "--local-bases"]
  ) {
    assert.match(result.stdout, new RegExp(`^  ${option}`, "m"), option);
  }
  assert.match(result.stdout, /default bundle \(what CI builds and runs\)/);
  assert.doesNotMatch(result.stdout + result.stderr, /^\s+at /m, "no stack trace");
});

Deno.test("make images: bad options are one line with exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--bogus"], /^make images: Unknown option '--bogus'.*; see make images ARGS=--help$/],
    [
      ["--base", "python=python:3.13"],
      /^make images: --base python: "python:3\.13" is a short name, .*docker\.io\/library\/python:3\.13/,
    ],
    [["--deno-image", "denoland/deno:2.9.6"], /^make images: --deno-image "denoland\/deno:2\.9\.6" is a short name/],
    [["--mode", "fast"], /^make images: --mode must be bundle or compile, not "fast"/],
    [["--variant", "java"], /^make images: unknown variant\(s\) java: see images\/variants\.json/],
    [["--base", "python"], /^make images: --base wants NAME=VALUE, not "python"/],
  ];
  for (const [args, message] of cases) {
    const result = await images(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr.trim(), message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.doesNotMatch(result.stdout, /Building/);
  }
});
