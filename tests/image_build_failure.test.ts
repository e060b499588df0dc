/**
 * A failed `make images` build says why: the last lines of the engine's log (here podman's own
 * error about a Deno image that does not exist), not only the exit code and the log's path.
 */
import assert from "node:assert/strict";
import { containerEnv, ensureDebian, IMAGE_TESTS_SKIPPED, TEST_TAG } from "./support/images.ts";
import { ROOT, run } from "./support/run.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined;

Deno.test({ name: "a failed build shows the end of its log", ignore }, async () => {
  await ensureDebian(console.log);
  const result = await run(Deno.execPath(), [
    "run",
    "--allow-all",
    `${ROOT}/scripts/images.ts`,
    ...["--engine", "podman", "--variant", "aws-cli", "--no-pull", "--network", "host"],
    ...[
      "--deno-image",
      "localhost/certrole-ci/no-such-deno:0",
      "--tag-prefix",
      `localhost/certrole-ci/failing-${TEST_TAG}-`,
    ],
  ], { env: await containerEnv() });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /^make images: podman build of \[1\/1\] aws-cli failed \(exit \d+\); the log ends:$/m);
  assert.match(result.stderr, /^ {2}\[1\/1\] aws-cli │ .*no-such-deno/m, "podman's own reason, from the log");
  assert.match(result.stderr, /^full log: .*\/\.scratch\/images\/aws-cli\.log$/m);
});
