/**
 * The README's "The walkthrough with certrole" block runs as printed, with the blocks for
 * `exec --supervise`, `serve` (container endpoint and IMDSv2) and `update` run where it runs
 * `certrole exec` (inside its parentheses, with its settings), one after another: `make install`
 * into a temporary PREFIX gives a `certrole` on PATH whose files never name the clone; the blocks
 * (taken from README.md) run under bash -e with that PATH and Debian's AWS CLI; each lists the
 * bucket with the certificate's credentials, the resident commands stop cleanly on SIGTERM, and
 * the walkthrough cleans up after itself; `make uninstall` removes the files.
 */
import assert from "node:assert/strict";
import { AWS } from "./support/aws_cli.ts";
import { readmeBlock } from "./support/readme.ts";
import { baseEnv, ROOT, run, tempDir } from "./support/run.ts";

const RESIDENT_HEADINGS = [
  "### `exec --supervise`: certrole stays PID 1",
  "## serve: a credential server",
  "## update: the shared credentials file",
];

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await filesUnder(path));
    else found.push(path);
  }
  return found;
}

/** bash -e in its own session, so a hang kills the whole group (the blocks' servers too). */
async function bashGroup(script: string, cwd: string, env: Record<string, string>, killAfterMs: number) {
  const child = new Deno.Command("setsid", {
    args: ["bash", "-e", "-c", script],
    cwd,
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => Deno.kill(-child.pid, "SIGKILL"), killAfterMs);
  const output = await child.output();
  clearTimeout(timer);
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("README walkthrough with its supervise, serve and update blocks: make install, the blocks as printed, make uninstall", async () => {
  const dir = await tempDir("certrole readme ");
  const prefix = `${dir}/prefix`;
  try {
    const install = await run("make", ["--no-print-directory", "install", `PREFIX=${prefix}`], { cwd: ROOT });
    assert.equal(install.code, 0, install.stdout + install.stderr);
    for (const file of [`${prefix}/bin/certrole`, ...await filesUnder(`${prefix}/lib/certrole/lib`)]) {
      assert.ok(!(await Deno.readTextFile(file)).includes(ROOT), `${file} names the clone ${ROOT}`);
    }

    const readme = await Deno.readTextFile(`${ROOT}/README.md`);
    const walkthrough = readmeBlock(readme, "## The walkthrough with certrole");
    const execLine = walkthrough.split("\n").find((line) => line.trim().startsWith("certrole exec -- aws s3 ls"));
    assert.ok(execLine, "the walkthrough runs certrole exec -- aws s3 ls");
    const residentBlocks = RESIDENT_HEADINGS.map((heading) => readmeBlock(readme, heading));
    await Deno.mkdir(`${dir}/home`);
    await Deno.mkdir(`${dir}/tmp`);
    // The trap only matters when a line fails: the blocks stop their emulator and servers themselves.
    const script = `trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n` +
      walkthrough.replace(execLine, `${execLine}\n${residentBlocks.join("")}`);
    const result = await bashGroup(script, dir, {
      HOME: `${dir}/home`,
      TMPDIR: `${dir}/tmp`,
      // Debian's AWS CLI (2.9: no AWS_ENDPOINT_URL, no token file), ahead of any other `aws`; curl.
      PATH: `${prefix}/bin:${AWS.replace(/\/aws$/, "")}:/bin`,
    }, 180_000);
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 0, output);
    assert.match(result.stdout, /^make_bucket: my-bucket$/m);
    const listings = result.stdout.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d my-bucket$/gm) ?? [];
    // The walkthrough's exec, supervise, serve (container endpoint, IMDSv2), update --once, update.
    assert.equal(listings.length, 6, `six listings of the bucket:\n${output}`);
    assert.match(result.stdout, /^http:\/\/127\.0\.0\.1:\d+\/v1\/credentials$/m, "the supervised command's endpoint");
    assert.match(result.stdout, /^\{"status":"ok"/m, "serve's /healthz");
    assert.doesNotMatch(result.stdout, /"(AccessKeyId|SecretAccessKey|Token)"/, "/healthz holds no credentials");
    assert.match(result.stderr, /certrole serve: stopped on SIGTERM/);
    assert.match(result.stderr, /certrole update: wrote \[bucket-lister\] in .*\/credentials/);
    assert.match(result.stdout, /✓ role bucket-lister: deleted/);
    assert.match(result.stderr, /certrole emulator: stopped on SIGTERM/);
    assert.deepEqual([...Deno.readDirSync(`${dir}/tmp`)], [], "the blocks leave nothing behind");

    const uninstall = await run("make", ["--no-print-directory", "uninstall", `PREFIX=${prefix}`], { cwd: ROOT });
    assert.equal(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
    assert.deepEqual(await filesUnder(prefix), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
