/**
 * `make demo` keeps working: the whole walkthrough (pki, emulator, iam setup, the container's
 * calls, clean-up) runs to its final ✓, here on the path without the AWS CLI (the AWS CLI path
 * is covered by walkthrough_aws_cli.test.ts).
 */
import assert from "node:assert/strict";
import { ROOT, run, tempDir } from "./support/run.ts";

Deno.test("the demo walkthrough passes every expectation", async () => {
  const dir = await tempDir();
  const result = await run(Deno.execPath(), ["run", "--quiet", "--allow-all", `${ROOT}/scripts/demo.ts`], {
    env: { CERTROLE_DEMO_DIR: `${dir}/demo`, CERTROLE_DEMO_AWS_CLI: "none" },
    cwd: ROOT,
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.doesNotMatch(result.stdout, /✗/);
  for (
    const expectation of [
      /ListBuckets: walkthrough-logs, walkthrough-assets/,
      /UnauthorizedOperation/,
      /AccessDeniedException/,
    ]
  ) {
    assert.match(result.stdout, expectation);
  }
  assert.match(result.stdout, /✓ the walkthrough works end to end/);
});
