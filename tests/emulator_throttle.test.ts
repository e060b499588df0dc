/**
 * `certrole emulator --throttle TPS`: beyond TPS CreateSession calls a second per certificate,
 * the answer is ThrottlingException with HTTP 429 in Roles Anywhere's REST-JSON error format
 * (X-Amzn-ErrorType, {"message"}), which certrole's client reads as throttling; another
 * certificate is not held back, and the rate recovers with time. Throttled calls are in the
 * CreateSession log. With --throttle-scope account, every certificate shares one bucket (AWS's
 * quota is per account and Region). A TPS that is not a positive number is a usage error.
 */
import assert from "node:assert/strict";
import { signedCreateSession } from "./support/create_session.ts";
import { sessionEnv, spawnEmulator, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const busy = await issueLeaf(ca, "busy");
const quiet = await issueLeaf(ca, "quiet");

Deno.test("beyond TPS calls a second per certificate: 429 ThrottlingException; others unaffected; it recovers", async () => {
  let clock = new Date();
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), { throttleTps: 2, now: () => clock });
  try {
    const burst = await Promise.all([0, 1, 2].map(() => signedCreateSession(walkthrough, busy, { date: clock })));
    assert.deepEqual(burst.map((answer) => answer.status).sort(), [201, 201, 429]);
    const throttled = burst.find((answer) => answer.status === 429)!;
    assert.equal(throttled.errorType, "ThrottlingException");
    assert.deepEqual(throttled.body, { message: "Rate exceeded" });

    assert.equal((await signedCreateSession(walkthrough, quiet, { date: clock })).status, 201, "another certificate");

    clock = new Date(clock.getTime() + 500); // half a second at 2 a second: one more call
    assert.equal((await signedCreateSession(walkthrough, busy, { date: clock })).status, 201);
    assert.equal((await signedCreateSession(walkthrough, busy, { date: clock })).status, 429);

    const outcomes = walkthrough.sessionLog.map((entry) => entry.outcome);
    assert.equal(outcomes.filter((outcome) => outcome === "ThrottlingException").length, 2);
    const fingerprints = new Set(
      walkthrough.sessionLog.filter((entry) => entry.outcome === "ThrottlingException")
        .map((entry) => entry.certificate.fingerprintSha256),
    );
    assert.equal(fingerprints.size, 1, "only the busy certificate was throttled");
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("throttle scope account: every certificate shares the account's rate", async () => {
  const clock = new Date();
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), {
    throttleTps: 2,
    throttleScope: "account",
    now: () => clock,
  });
  try {
    const answers = [];
    for (const leaf of [busy, quiet, busy]) answers.push(await signedCreateSession(walkthrough, leaf, { date: clock }));
    assert.deepEqual(answers.map((answer) => answer.status), [201, 201, 429], "the third call, whoever makes it");
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("certrole's client sees the throttling: with one attempt it reports ThrottlingException", async () => {
  // One call every 1000 s: the second call is throttled whatever the machine's speed.
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), { throttleTps: 0.001 });
  try {
    const env = { ...sessionEnv(walkthrough, busy), AWS_MAX_ATTEMPTS: "1" };
    const first = await certrole(["credential-process", "--no-cache"], { env });
    assert.equal(first.code, 0, first.stderr);
    const second = await certrole(["credential-process", "--no-cache"], { env });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /ThrottlingException/);
    assert.equal(second.stderr.trim().split("\n").length, 1, second.stderr);
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("certrole emulator --throttle TPS; bad values are usage errors", async () => {
  const emulator = await spawnEmulator(dir, ["--throttle", "0.001"]);
  try {
    const env = {
      ROLESANYWHERE_CERT_LOCATION: busy.cert,
      ROLESANYWHERE_KEY_LOCATION: busy.key,
      ROLESANYWHERE_KEY_PASSPHRASE: busy.passphrase!,
      ROLESANYWHERE_TRUST_ANCHOR_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/none",
      ROLESANYWHERE_PROFILE_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/none",
      ROLESANYWHERE_ROLE_ARN: "arn:aws:iam::123456789012:role/none",
      ROLESANYWHERE_ENDPOINT: emulator.url,
      AWS_MAX_ATTEMPTS: "1",
    };
    // Nothing is set up: the first call is refused on its merits, the second before them.
    assert.match((await certrole(["credential-process", "--no-cache"], { env })).stderr, /ResourceNotFoundException/);
    assert.match((await certrole(["credential-process", "--no-cache"], { env })).stderr, /ThrottlingException/);
    assert.deepEqual((await emulator.sessionLog()).map((entry) => entry.status), [404, 429]);
  } finally {
    await emulator.stop();
  }
  const scope = await certrole(["emulator", "--port", "0", "--throttle", "1", "--throttle-scope", "region"]);
  assert.equal(scope.code, 2);
  assert.match(scope.stderr, /^certrole: --throttle-scope must be certificate or account, not "region"\n$/);
  const alone = await certrole(["emulator", "--port", "0", "--throttle-scope", "account"]);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--throttle-scope needs --throttle TPS/);
  for (const value of ["0", "-1", "abc", "1e3"]) {
    const result = await certrole(["emulator", "--port", "0", "--throttle", value]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`^certrole: --throttle must be a number .*not "${value}"\\n$`));
  }
});
