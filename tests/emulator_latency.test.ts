/**
 * `certrole emulator --latency MS` holds every answer back by MS milliseconds (a wide-area round
 * trip on loopback, which has no `tc netem` here): refusals and successful calls alike, and the
 * AWS CLI still works through it. A value that is not 0 to 60000 is a usage error.
 */
import assert from "node:assert/strict";
import { AWS } from "./support/aws_cli.ts";
import { spawnEmulator } from "./support/emulator.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const dir = await tempDir();
const LATENCY_MS = 400;

Deno.test("--latency MS: every answer comes at least MS late", async () => {
  const emulator = await spawnEmulator(dir, ["--latency", String(LATENCY_MS)]);
  try {
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const response = await fetch(`${emulator.url}/trustanchors`);
      await response.body?.cancel();
      assert.equal(response.status, 403);
      assert.ok(performance.now() - started >= LATENCY_MS, "an unsigned call was answered early");
    }
    const started = performance.now();
    const identity = await run(AWS, ["sts", "get-caller-identity", "--endpoint-url", emulator.url], {
      env: {
        HOME: dir,
        AWS_CONFIG_FILE: `${dir}/no-config`,
        AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
        AWS_EC2_METADATA_DISABLED: "true",
        ...emulator.exports,
      },
    });
    assert.equal(identity.code, 0, identity.stderr);
    assert.ok(performance.now() - started >= LATENCY_MS, "the AWS CLI's call was answered early");
  } finally {
    await emulator.stop();
  }
});

Deno.test("--latency outside 0 to 60000 is a usage error", async () => {
  for (const value of ["-1", "abc", "60001", "1.5"]) {
    const result = await certrole(["emulator", "--port", "0", "--latency", value]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, `certrole: --latency must be 0 to 60000 milliseconds, not "${value}"\n`);
  }
});
