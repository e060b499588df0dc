/**
 * `certrole emulator` as a process: --port 0 picks a free port, the endpoint goes to
 * --ready-file and the shell lines on stdout work for the AWS CLI; the admin secret is printed
 * only when the emulator generated it; SIGTERM and SIGINT stop it cleanly with exit 0; bad
 * flags and a busy port are one-line errors.
 */
import assert from "node:assert/strict";
import { AWS } from "./support/aws_cli.ts";
import { spawnEmulator } from "./support/emulator.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole emulator ");

function awsEnv(exports: Record<string, string>, extra: Record<string, string> = {}) {
  return {
    HOME: dir,
    AWS_CONFIG_FILE: `${dir}/no-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    ...exports,
    ...extra,
  };
}

Deno.test("--port 0 and --ready-file: the printed lines are enough for the AWS CLI; SIGTERM exits 0", async () => {
  const emulator = await spawnEmulator(dir);
  try {
    assert.match(emulator.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(emulator.url, "http://127.0.0.1:0");
    assert.equal(emulator.exports.AWS_ENDPOINT_URL, emulator.url);
    assert.match(emulator.exports.AWS_ACCESS_KEY_ID, /^AKIA[A-Z0-9]{16}$/);
    assert.ok(emulator.exports.AWS_SECRET_ACCESS_KEY.length >= 30, "a generated secret is printed");
    assert.equal(emulator.exports.AWS_DEFAULT_REGION, "us-east-1");
    // eval-able: every line is a comment or an export.
    for (const line of emulator.output().stdout.trim().split("\n")) assert.match(line, /^(#|export [A-Z_]+=)/);
    const identity = await run(AWS, ["sts", "get-caller-identity", "--endpoint-url", emulator.url], {
      env: awsEnv(emulator.exports),
    });
    assert.equal(identity.code, 0, identity.stderr);
    assert.equal(JSON.parse(identity.stdout).Arn, "arn:aws:iam::123456789012:root");
  } finally {
    const stopped = await emulator.stop("SIGTERM");
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stderr, /stopped on SIGTERM/);
    await assert.rejects(Deno.stat(emulator.readyFile), Deno.errors.NotFound, "the ready file is removed");
  }
});

Deno.test("SIGINT stops it cleanly too", async () => {
  const emulator = await spawnEmulator(dir);
  const stopped = await emulator.stop("SIGINT");
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /stopped on SIGINT/);
});

Deno.test("admin keys from the environment: the secret is not printed, and a wrong secret is refused", async () => {
  const secret = "emulator-admin-secret-from-env-0123456789";
  const emulator = await spawnEmulator(dir, ["--region", "eu-west-1", "--account-id", "210987654321"], {
    CERTROLE_EMULATOR_ACCESS_KEY_ID: "AKIAEMULATORADMIN001",
    CERTROLE_EMULATOR_SECRET_ACCESS_KEY: secret,
  });
  try {
    const { stdout } = emulator.output();
    assert.equal(emulator.exports.AWS_ACCESS_KEY_ID, "AKIAEMULATORADMIN001");
    assert.equal(emulator.exports.AWS_SECRET_ACCESS_KEY, undefined);
    assert.ok(!stdout.includes(secret));
    assert.equal(emulator.exports.AWS_DEFAULT_REGION, "eu-west-1");
    const listed = await run(AWS, ["rolesanywhere", "list-profiles", "--endpoint-url", emulator.url], {
      env: awsEnv(emulator.exports, { AWS_SECRET_ACCESS_KEY: secret }),
    });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).profiles, []);
    const wrong = await run(AWS, ["iam", "list-roles", "--endpoint-url", emulator.url], {
      env: awsEnv(emulator.exports, { AWS_SECRET_ACCESS_KEY: "not-the-secret" }),
    });
    assert.equal(wrong.code, 254);
    assert.match(wrong.stderr, /SignatureDoesNotMatch/);
    const otherRegion = await run(AWS, ["rolesanywhere", "list-profiles", "--endpoint-url", emulator.url], {
      env: awsEnv(emulator.exports, { AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: "us-east-1" }),
    });
    assert.equal(otherRegion.code, 254);
    assert.match(otherRegion.stderr, /InvalidSignatureException.*scoped to a valid region/);
  } finally {
    assert.equal((await emulator.stop()).code, 0);
  }
});

Deno.test("bad flags and a busy port: one-line errors", async () => {
  const cases: [string[], Record<string, string>, number, RegExp][] = [
    [["--port", "http"], {}, 2, /--port must be 0 to 65535/],
    [["--port", "70000"], {}, 2, /--port must be 0 to 65535/],
    [["--account-id", "12"], {}, 2, /--account-id must be 12 digits/],
    [["--region", "mars"], {}, 2, /is not a region name/],
    [["--ca-bundle", `${dir}/ca.pem`], {}, 2, /--ca-bundle needs --tls/],
    [[], { CERTROLE_EMULATOR_ACCESS_KEY_ID: "AKIAONLYTHEKEYID0001" }, 2, /give both/],
  ];
  for (const [args, env, code, message] of cases) {
    const result = await certrole(["emulator", ...args], { env });
    assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
  const first = await spawnEmulator(dir);
  try {
    const port = new URL(first.url).port;
    const busy = await certrole(["emulator", "--port", port]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use: pick another --port`));
  } finally {
    await first.stop();
  }
});
