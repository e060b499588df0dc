/**
 * `certrole emulator --tls`: HTTPS with a certificate from a CA the emulator makes, written to
 * --ca-bundle. The AWS CLI trusts it through AWS_CA_BUNDLE (and refuses it without), and the
 * whole walkthrough runs over TLS: certrole iam setup, then `aws s3 ls` through
 * credential_process, where certrole's CreateSession also verifies the server with
 * AWS_CA_BUNDLE.
 */
import assert from "node:assert/strict";
import { AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { spawnEmulator } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, openssl, run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole tls ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "container");

Deno.test("--tls: AWS_CA_BUNDLE trusts the emulator for the AWS CLI, certrole iam setup and credential_process", async () => {
  const bundle = `${dir}/emulator-ca.pem`;
  const emulator = await spawnEmulator(dir, ["--tls", "--ca-bundle", bundle]);
  try {
    assert.match(emulator.url, /^https:\/\/localhost:\d+$/);
    assert.equal(emulator.exports.AWS_CA_BUNDLE, bundle);
    // An independent look at what is served: openssl verifies the chain and the name.
    const port = new URL(emulator.url).port;
    const handshake = await openssl([
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-CAfile",
      bundle,
      "-verify_hostname",
      "localhost",
      "-verify_return_error",
      "-brief",
    ], { stdin: "" });
    assert.equal(typeof handshake, "string");

    const base = {
      HOME: dir,
      AWS_CONFIG_FILE: `${dir}/no-config`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: emulator.exports.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: emulator.exports.AWS_SECRET_ACCESS_KEY,
      AWS_DEFAULT_REGION: "us-east-1",
    };
    const untrusted = await run(AWS, ["iam", "list-roles", "--endpoint-url", emulator.url], { env: base });
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /SSL validation failed|CERTIFICATE_VERIFY_FAILED/);
    const trusted = await run(AWS, ["iam", "list-roles", "--endpoint-url", emulator.url], {
      env: { ...base, AWS_CA_BUNDLE: bundle },
    });
    assert.equal(trusted.code, 0, trusted.stderr);

    const setup = await certrole([
      "iam",
      "setup",
      "--role-name",
      "bucket-lister",
      "--cn",
      "myContainer",
      "--ca",
      ca.cert,
      "--allow",
      "s3:ListAllMyBuckets",
      "--json",
    ], { env: { ...base, AWS_ENDPOINT_URL: emulator.url, AWS_CA_BUNDLE: bundle } });
    assert.equal(setup.code, 0, setup.stderr);
    const arns = JSON.parse(setup.stdout);

    const mb = await run(AWS, ["s3", "mb", "s3://tls-bucket", "--endpoint-url", emulator.url], {
      env: { ...base, AWS_CA_BUNDLE: bundle },
    });
    assert.equal(mb.code, 0, mb.stderr);
    const env = await credentialProcessEnv(dir, "tls", leaf, arns, emulator.url, { env: { AWS_CA_BUNDLE: bundle } });
    const ls = await run(AWS, ["s3", "ls", "--endpoint-url", emulator.url], { env });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, / tls-bucket$/m);

    const { AWS_CA_BUNDLE: _, ...withoutBundle } = env;
    const refused = await run(AWS, ["s3", "ls", "--endpoint-url", emulator.url], { env: withoutBundle });
    assert.notEqual(refused.code, 0);
  } finally {
    assert.equal((await emulator.stop()).code, 0);
  }
});

Deno.test("--tls with --state keeps the same CA across restarts, so AWS_CA_BUNDLE stays valid", async () => {
  const state = `${dir}/state`;
  const first = await spawnEmulator(dir, ["--tls", "--state", state]);
  assert.equal((await first.stop()).code, 0);
  const bundle = first.exports.AWS_CA_BUNDLE;
  assert.equal(bundle, `${state}/tls-ca-cert.pem`);
  const before = await Deno.readTextFile(bundle);
  const second = await spawnEmulator(dir, ["--tls", "--state", state]);
  try {
    assert.equal(await Deno.readTextFile(second.exports.AWS_CA_BUNDLE), before);
    const listed = await run(AWS, ["rolesanywhere", "list-trust-anchors", "--endpoint-url", second.url], {
      env: {
        HOME: dir,
        AWS_CONFIG_FILE: `${dir}/no-config`,
        AWS_ACCESS_KEY_ID: second.exports.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: second.exports.AWS_SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_CA_BUNDLE: bundle,
      },
    });
    assert.equal(listed.code, 0, listed.stderr);
  } finally {
    await second.stop();
  }
});
