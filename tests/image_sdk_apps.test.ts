/**
 * The SDK images as application bases: a tiny application built FROM the python, node and ruby
 * variants (tests/fixtures/images/<variant>-app, `CMD ["python", "app.py"]` and the like) lists
 * the buckets through its own AWS SDK with the credentials `certrole exec` set up, runs as PID 1
 * under the non-root user, and its exit code is the container's.
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

/** A one-line program printing "PID UID" in each runtime. */
const WHO_AM_I: Record<string, string[]> = {
  python: ["python", "-c", "import os; print(os.getpid(), os.getuid())"],
  node: ["node", "-e", "console.log(process.pid, process.getuid())"],
  ruby: ["ruby", "-e", 'puts "#{Process.pid} #{Process.uid}"'],
};

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
      assert.equal(who.stdout.trim(), "1 65532", "the application is PID 1 (exec, no supervisor) and not root");
    });
  });
}
