/**
 * The README's "The walkthrough with certrole" block runs as printed: `make install` into a
 * temporary PREFIX gives a `certrole` on PATH whose files never name the clone, the block (taken
 * from README.md) runs under bash -e with that PATH and Debian's AWS CLI, lists the bucket with
 * the certificate's credentials and cleans up after itself; `make uninstall` removes the files.
 */
import assert from "node:assert/strict";
import { AWS } from "./support/aws_cli.ts";
import { readmeBlock } from "./support/readme.ts";
import { ROOT, run, tempDir } from "./support/run.ts";

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await filesUnder(path));
    else found.push(path);
  }
  return found;
}

Deno.test("README walkthrough block: make install, then the block as printed, then make uninstall", async () => {
  const dir = await tempDir("certrole readme ");
  const prefix = `${dir}/prefix`;
  try {
    const install = await run("make", ["--no-print-directory", "install", `PREFIX=${prefix}`], { cwd: ROOT });
    assert.equal(install.code, 0, install.stdout + install.stderr);
    for (const file of [`${prefix}/bin/certrole`, ...await filesUnder(`${prefix}/lib/certrole/lib`)]) {
      assert.ok(!(await Deno.readTextFile(file)).includes(ROOT), `${file} names the clone ${ROOT}`);
    }

    const block = readmeBlock(await Deno.readTextFile(`${ROOT}/README.md`), "## The walkthrough with certrole");
    await Deno.mkdir(`${dir}/home`);
    await Deno.mkdir(`${dir}/tmp`);
    // The trap only matters when a line fails: the block stops its emulator itself.
    const script = `trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n${block}`;
    const result = await run("bash", ["-e", "-c", script], {
      cwd: dir,
      env: {
        HOME: `${dir}/home`,
        TMPDIR: `${dir}/tmp`,
        // Debian's AWS CLI (2.9, which ignores AWS_ENDPOINT_URL), ahead of any other `aws`.
        PATH: `${prefix}/bin:${AWS.replace(/\/aws$/, "")}:/bin`,
      },
    });
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 0, output);
    assert.match(result.stdout, /^make_bucket: my-bucket$/m);
    assert.match(result.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d my-bucket$/m, "aws s3 ls lists the bucket");
    assert.match(result.stdout, /✓ role bucket-lister: deleted/);
    assert.match(result.stderr, /certrole emulator: stopped on SIGTERM/);
    assert.deepEqual(await filesUnder(`${dir}/tmp`), [], "the block removes its files");

    const uninstall = await run("make", ["--no-print-directory", "uninstall", `PREFIX=${prefix}`], { cwd: ROOT });
    assert.equal(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
    assert.deepEqual(await filesUnder(prefix), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
