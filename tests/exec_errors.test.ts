/**
 * A container that cannot authenticate stops before its command starts: each failure is one
 * line on stderr with a non-zero exit, and the command never runs (its marker file is absent).
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { offlineExecEnv } from "./support/exec.ts";
import { issueDated, issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, openssl, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

async function expectStop(env: Record<string, string>, code: number, pattern: RegExp) {
  const marker = `${dir}/ran-${crypto.randomUUID()}`;
  const result = await certrole(["exec", "--", "touch", marker], { env: { HOME: dir, AWS_MAX_ATTEMPTS: "1", ...env } });
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], pattern);
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound, "the command must not have run");
}

Deno.test("missing variables are listed with what each is for", async () => {
  await expectStop(
    { ROLESANYWHERE_CERT_LOCATION: leaf.cert },
    2,
    /^certrole: missing settings: --trust-anchor-arn \/ ROLESANYWHERE_TRUST_ANCHOR_ARN \(the trust anchor's ARN\), --profile-arn \/ ROLESANYWHERE_PROFILE_ARN \(the profile's ARN\), --role-arn \/ ROLESANYWHERE_ROLE_ARN \(the role to assume\)$/,
  );
});

Deno.test("wrong passphrase, expired certificate, key mismatch, AccessDeniedException", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const env = sessionEnv(walkthrough, leaf);
    await expectStop(
      { ...env, ROLESANYWHERE_KEY_PASSPHRASE: "wrong" },
      1,
      /^certrole: wrong passphrase for private key file/,
    );
    const expired = await issueDated(ca, "expired", "20200101000000Z", "20200102000000Z");
    await expectStop(
      { ...env, ROLESANYWHERE_CERT_LOCATION: expired.cert, ROLESANYWHERE_KEY_LOCATION: expired.key },
      1,
      /^certrole: certificate ".*expired-cert\.pem" expired at 2020-01-02/,
    );
    const other = `${dir}/other-key.pem`;
    await openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other]);
    await expectStop({ ...env, ROLESANYWHERE_KEY_LOCATION: other }, 1, /does not match certificate/);
    const stranger = await issueLeaf(ca, "stranger", { cn: "someoneElse" });
    await expectStop(
      { ...env, ROLESANYWHERE_CERT_LOCATION: stranger.cert, ROLESANYWHERE_KEY_LOCATION: stranger.key },
      1,
      /^certrole: CreateSession failed: AccessDeniedException: Unable to assume role .*bucket-lister/,
    );
    assert.equal(walkthrough.emulator.state.sessionsIssued, 0);
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("with ROLESANYWHERE_PREFLIGHT=false the local checks still stop a bad key", async () => {
  await expectStop(
    {
      ...offlineExecEnv(leaf, dir),
      ROLESANYWHERE_KEY_PASSPHRASE: "wrong",
      ROLESANYWHERE_ENDPOINT: "http://127.0.0.1:9",
    },
    1,
    /wrong passphrase/,
  );
});
