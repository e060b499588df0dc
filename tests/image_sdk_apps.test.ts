/**
 * The SDK images as application bases: a tiny application built FROM the python, node and ruby
 * variants (tests/fixtures/images/<variant>-app, `CMD ["python", "app.py"]` and the like) lists
 * the buckets through its own AWS SDK with the credentials `certrole exec` set up, runs under the
 * non-root user, as PID 1 where the image replaces certrole with it (ruby) and as certrole's child
 * where certrole supervises it (python, node: PID 1 is certrole), and its exit code is the container's.
 */
import assert from "node:assert/strict";
import {
  buildApp,
  ensureDebian,
  IMAGE_TESTS_SKIPPED,
  type ImagePki,
  makeImagePki,
  podman,
  type TestedVariant,
} from "./support/images.ts";
import { withWalkthrough } from "./support/images.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined;
let pki: Promise<ImagePki> | undefined;

/** A one-line program printing "PID UID PID-1's-program" in each runtime. */
const WHO_AM_I: Record<string, string[]> = {
  python: [
    "python",
    "-c",
    "import os; print(os.getpid(), os.getuid(), open('/proc/1/cmdline').read().split('\\0')[0])",
  ],
  node: [
    "node",
    "-e",
    "console.log(process.pid, process.getuid(), require('fs').readFileSync('/proc/1/cmdline', 'latin1').split('\\0')[0])",
  ],
  ruby: ["ruby", "-e", 'puts "#{Process.pid} #{Process.uid} #{File.read("/proc/1/cmdline").split("\\0")[0]}"'],
};

async function entrypointMode(variant: TestedVariant): Promise<string> {
  const spec = JSON.parse(await Deno.readTextFile(new URL(`../entrypoints/${variant}.json`, import.meta.url)));
  return spec.mode ?? "replace";
}

for (const variant of ["python", "node", "ruby"] as TestedVariant[]) {
  Deno.test({ name: `${variant} image: an application lists the buckets through its SDK`, ignore }, async () => {
    await ensureDebian(console.log);
    const image = await buildApp(variant);
    pki ??= makeImagePki();
    await withWalkthrough(await pki, async (walkthrough) => {
      const runApp = (extra: string[], command: string[] = []) =>
        podman([
          "run",
          "--rm",
          ...walkthrough.runArgs(),
          "-e",
          `AWS_ENDPOINT_URL=${walkthrough.endpoint}`,
          ...extra,
          image,
          ...command,
        ], { env: walkthrough.secretEnv() });

      const listed = await runApp([]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout.trim(), "walkthrough-bucket");

      const failing = await runApp(["-e", "APP_EXIT_CODE=3"]);
      assert.equal(failing.stdout.trim(), "walkthrough-bucket");
      assert.equal(failing.code, 3, "the application's exit code is the container's");

      const who = await runApp([], WHO_AM_I[variant]);
      assert.equal(who.code, 0, who.stderr);
      const [pid, uid, pid1] = who.stdout.trim().split(" ");
      assert.equal(uid, "65532", "the application is not root");
      if (await entrypointMode(variant) === "supervise") {
        assert.notEqual(pid, "1", "certrole supervises the application");
        assert.match(pid1, /\/deno$/, "PID 1 is certrole (Deno running its bundle)");
      } else {
        assert.equal(pid, "1", "the application is PID 1 (exec replaced itself)");
      }
    });
  });
}
