/**
 * `make demo` keeps working: the whole walkthrough (pki, emulator, iam setup, the container's
 * calls, clean-up) runs to its final ✓, on the path without the AWS CLI (the AWS CLI path is
 * covered by walkthrough_aws_cli.test.ts), and with `--key-type ml-dsa-65` (`make demo
 * KEY_TYPE=ml-dsa-65`) through the AWS CLI under certrole exec.
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

Deno.test("make demo KEY_TYPE=ml-dsa-65: ML-DSA-65 keys, the AWS CLI under exec, every expectation", async () => {
  const dir = await tempDir();
  const result = await run("make", ["--no-print-directory", "demo", "KEY_TYPE=ml-dsa-65"], {
    env: { CERTROLE_DEMO_DIR: `${dir}/demo`, DENO: Deno.execPath() },
    cwd: ROOT,
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.doesNotMatch(result.stdout, /✗/);
  assert.match(result.stdout, /keys ml-dsa-65/);
  assert.match(result.stdout, /AWS calls: the AWS CLI/);
  assert.match(result.stdout, /Wrote ca-key\.pem: ML-DSA-65 private key, encrypted/);
  assert.match(result.stdout, /certrole exec -- aws s3 ls\n.*walkthrough-logs/);
  assert.match(result.stdout, /UnauthorizedOperation/);
  assert.match(result.stdout, /AccessDeniedException/);
  assert.match(result.stdout, /✓ the walkthrough works end to end/);
});
