/**
 * `certrole serve` refreshes in the background without waiting an hour: the emulator issues
 * 8-second credentials (--credential-lifetime), serve fetches new ones a quarter of the way in
 * and every answer still has at least a quarter of its lifetime left. With the emulator stopped
 * mid-run, the credentials it holds keep being served (one log line per failed retry) until their
 * hand-out floor, then /healthz and the credential endpoints answer 503, never 200 with empty
 * fields.
 */
import assert from "node:assert/strict";
import { issuedSessions, sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { tempDir, waitFor } from "./support/run.ts";
import { spawnServe } from "./support/serve.ts";

const LIFETIME = 8;

Deno.test("refresh before expiry, keep serving while CreateSession is down, 503 once nothing usable is left", async () => {
  const dir = await tempDir("certrole-serve-refresh-");
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), { credentialLifetimeSeconds: LIFETIME });
  let emulatorOpen = true;
  const serve = await spawnServe(["--port", "0", "--token-file", `${dir}/token`], {
    HOME: dir,
    ...sessionEnv(walkthrough, leaf),
  });
  try {
    const token = await Deno.readTextFile(`${dir}/token`);
    const credentials = async () => {
      const response = await fetch(serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI, {
        headers: { Authorization: token },
      });
      return { status: response.status, body: await response.json() };
    };
    const first = await credentials();
    assert.equal(first.status, 200);
    await serve.waitForLog(/refreshed \(scheduled\) in \d+ ms: access key \w+, expires/, 10_000);
    const second = await credentials();
    assert.notEqual(second.body.AccessKeyId, first.body.AccessKeyId, "new credentials after the refresh");
    assert.ok(issuedSessions(walkthrough.sessionLog).length >= 2);
    const left = Date.parse(second.body.Expiration) - Date.now();
    assert.ok(left >= (LIFETIME / 4) * 1000 - 1500, `handed out with ${left} ms left`);

    await walkthrough.emulator.close();
    emulatorOpen = false;
    await serve.waitForLog(/refresh failed \(\w+, attempt 1\): .*; still handing out access key \w+ until/, 10_000);
    const during = await credentials();
    assert.equal(during.status, 200, "held credentials keep being served while they are usable");
    assert.ok(Date.parse(during.body.Expiration) > Date.now());

    await waitFor(
      async () => {
        const response = await fetch(`${serve.base}/healthz`);
        const body = await response.json();
        return response.status === 503 ? body : undefined;
      },
      15_000,
      "/healthz to turn 503",
    );
    const after = await credentials();
    assert.equal(after.status, 503);
    assert.deepEqual(Object.keys(after.body), ["Code", "Message"], "an error, never empty credentials");
    assert.equal(after.body.Code, "CredentialsUnavailable");
    await serve.waitForLog(/answering 503/);
  } finally {
    const { stderr } = await serve.stop();
    if (emulatorOpen) await walkthrough.emulator.close();
    const failures = stderr.split("\n").filter((line) => line.includes("refresh failed"));
    assert.ok(failures.every((line) => !line.includes("\t")), "one line per failure");
  }
});
