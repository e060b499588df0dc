/**
 * The emulator's CreateSession log names the certificate each session was issued to: its serial
 * (decimal) and SHA-256 fingerprint, as openssl computes them, with the issued access key id and
 * ARNs; refused calls are logged with their error code. No secret key or session token goes
 * in. `certrole emulator --session-log FILE` writes the same entries as JSON lines (0600).
 */
import assert from "node:assert/strict";
import { issuedSessions, sessionEnv, spawnEmulator, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, type Leaf, makeCa } from "./support/pki.ts";
import { certrole, openssl, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);

/** The certificate as openssl names it: decimal serial, lower-case hex SHA-256 fingerprint. */
async function opensslIdentity(leaf: Leaf) {
  const serialHex = (await openssl(["x509", "-in", leaf.cert, "-noout", "-serial"])).trim().replace(/^serial=/, "");
  const fingerprint = (await openssl(["x509", "-in", leaf.cert, "-noout", "-fingerprint", "-sha256"])).trim();
  return {
    serial: BigInt(`0x${serialHex}`).toString(),
    fingerprintSha256: fingerprint.replace(/^.*=/, "").replaceAll(":", "").toLowerCase(),
  };
}

Deno.test("each issued session names its certificate; refusals are logged with their code; no secrets", async () => {
  const first = await issueLeaf(ca, "first");
  const second = await issueLeaf(ca, "second");
  const stranger = await issueLeaf(ca, "stranger", { cn: "someoneElse" });
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const issued = [];
    for (const leaf of [first, second]) {
      const result = await certrole(["credential-process", "--no-cache"], { env: sessionEnv(walkthrough, leaf) });
      assert.equal(result.code, 0, result.stderr);
      issued.push(JSON.parse(result.stdout));
    }
    const refused = await certrole(["credential-process", "--no-cache"], { env: sessionEnv(walkthrough, stranger) });
    assert.equal(refused.code, 1);

    const log = walkthrough.sessionLog;
    assert.equal(log.length, 3);
    assert.deepEqual(issuedSessions(log).map((entry) => entry.certificate), [
      await opensslIdentity(first),
      await opensslIdentity(second),
    ]);
    for (const [index, entry] of issuedSessions(log).entries()) {
      assert.equal(entry.status, 201);
      assert.equal(entry.accessKeyId, issued[index].AccessKeyId);
      assert.equal(entry.expiration, issued[index].Expiration);
      assert.equal(entry.roleArn, walkthrough.roleArn);
      assert.equal(entry.profileArn, walkthrough.profileArn);
      assert.equal(entry.trustAnchorArn, walkthrough.trustAnchorArn);
      assert.ok(!Number.isNaN(Date.parse(entry.time)));
    }
    assert.equal(log[2].outcome, "AccessDeniedException");
    assert.equal(log[2].status, 403);
    assert.deepEqual(log[2].certificate, await opensslIdentity(stranger));
    assert.equal(log[2].roleArn, walkthrough.roleArn);
    const text = JSON.stringify(log);
    for (const credentials of issued) {
      assert.ok(!text.includes(credentials.SecretAccessKey), "a secret key is in the log");
      assert.ok(!text.includes(credentials.SessionToken), "a session token is in the log");
    }
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("certrole emulator --session-log FILE: one JSON line per CreateSession, 0600", async () => {
  const leaf = await issueLeaf(ca, "process");
  const path = `${dir}/sessions.jsonl`;
  const emulator = await spawnEmulator(dir, ["--session-log", path]);
  try {
    // Nothing is set up on this emulator: the signature is checked, then the trust anchor is not found.
    const result = await certrole(["credential-process", "--no-cache"], {
      env: {
        ROLESANYWHERE_CERT_LOCATION: leaf.cert,
        ROLESANYWHERE_KEY_LOCATION: leaf.key,
        ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
        ROLESANYWHERE_TRUST_ANCHOR_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/none",
        ROLESANYWHERE_PROFILE_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/none",
        ROLESANYWHERE_ROLE_ARN: "arn:aws:iam::123456789012:role/none",
        ROLESANYWHERE_ENDPOINT: emulator.url,
      },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ResourceNotFoundException/);
    const log = await emulator.sessionLog();
    assert.equal(log.length, 1);
    assert.equal(log[0].outcome, "ResourceNotFoundException");
    assert.deepEqual(log[0].certificate, await opensslIdentity(leaf));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.readTextFile(path)).split("\n").filter(Boolean).length, 1);
  } finally {
    await emulator.stop();
  }
});
