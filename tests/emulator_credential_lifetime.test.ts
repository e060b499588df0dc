/**
 * `certrole emulator --credential-lifetime SECONDS`: CreateSession issues credentials that expire
 * after SECONDS although a longer duration was requested, and they really expire: the AWS CLI's
 * call with them works before and gets ExpiredToken after. A longer lifetime than requested
 * changes nothing; values outside 1 to 43200 are usage errors.
 */
import assert from "node:assert/strict";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { saveState } from "../cli/emulator/state.ts";
import { AWS } from "./support/aws_cli.ts";
import { sessionEnv, spawnEmulator, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

async function credentialProcess(env: Record<string, string>) {
  const result = await certrole(["credential-process", "--no-cache", "--session-duration", "3600"], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as {
    AccessKeyId: string;
    SecretAccessKey: string;
    SessionToken: string;
    Expiration: string;
  };
}

function callerIdentity(url: string, credentials: Awaited<ReturnType<typeof credentialProcess>>) {
  return run(AWS, ["sts", "get-caller-identity", "--endpoint-url", url], {
    env: {
      HOME: dir,
      AWS_CONFIG_FILE: `${dir}/no-config`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: credentials.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.SecretAccessKey,
      AWS_SESSION_TOKEN: credentials.SessionToken,
    },
  });
}

/** GetCallerIdentity signed by the AWS SDK's signer in this process: fast, so it runs well within the lifetime. */
async function callerIdentityNow(url: string, credentials: Awaited<ReturnType<typeof credentialProcess>>) {
  const target = new URL(url);
  const body = "Action=GetCallerIdentity&Version=2011-06-15";
  const signed = await new SignatureV4({
    service: "sts",
    region: "us-east-1",
    credentials: {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
    },
    sha256: Sha256,
  }).sign({
    method: "POST",
    protocol: "http:",
    hostname: target.hostname,
    port: Number(target.port),
    path: "/",
    headers: { host: target.host, "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  const headers = { ...signed.headers as Record<string, string> };
  delete headers.host;
  const response = await fetch(url, { method: "POST", headers, body });
  return { status: response.status, text: await response.text() };
}

Deno.test("credentials expire after the lifetime, not the requested hour, and are refused after", async () => {
  // Long enough that the in-process call below comes well before expiry on a loaded machine.
  const lifetimeMs = 8000;
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), {
    credentialLifetimeSeconds: lifetimeMs / 1000,
  });
  try {
    const asked = Date.now();
    const credentials = await credentialProcess(sessionEnv(walkthrough, leaf));
    const answered = Date.now();
    // Issued between asking and the answer; Expiration is written to the second.
    const issued = Date.parse(credentials.Expiration) - lifetimeMs;
    assert.ok(issued > asked - 1000 && issued <= answered, `expires ${credentials.Expiration}`);
    const expiry = Date.parse(credentials.Expiration);
    const before = await callerIdentityNow(walkthrough.emulator.url, credentials);
    assert.equal(before.status, 200, before.text);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiry - Date.now()) + 200));
    const after = await callerIdentity(walkthrough.emulator.url, credentials);
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /ExpiredToken/);
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("certrole emulator --credential-lifetime SECONDS; a longer lifetime keeps the requested duration", async () => {
  const stateDir = `${dir}/state`;
  const seeded = await startWalkthrough(await Deno.readTextFile(ca.cert));
  await seeded.emulator.close();
  await saveState(stateDir, seeded.emulator.state);
  for (const [lifetime, expected] of [[60, 60], [7200, 3600]]) {
    const emulator = await spawnEmulator(dir, ["--state", stateDir, "--credential-lifetime", String(lifetime)]);
    try {
      const asked = Date.now();
      const credentials = await credentialProcess({
        ...sessionEnv(seeded, leaf),
        ROLESANYWHERE_ENDPOINT: emulator.url,
      });
      const seconds = (Date.parse(credentials.Expiration) - asked) / 1000;
      assert.ok(Math.abs(seconds - expected) < 5, `lifetime ${lifetime}: expires in ${seconds} s`);
    } finally {
      await emulator.stop();
    }
  }
  for (const value of ["0", "43201", "abc"]) {
    const result = await certrole(["emulator", "--port", "0", "--credential-lifetime", value]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, `certrole: --credential-lifetime must be 1 to 43200 seconds, not "${value}"\n`);
  }
});
