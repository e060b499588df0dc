/**
 * `certrole serve` starts only with credentials: a first CreateSession that fails ends it with the
 * usual one-line reason and exit 1, before it listens (AWS's helper starts anyway and serves empty
 * credentials). Once up it writes --env-file (the client's NAME=value lines) and --ready-file, logs
 * one start line without secrets, refreshes on SIGHUP, and on SIGTERM stops accepting and exits 0, removing the ready
 * file; a SIGTERM while the first CreateSession still waits ends it at once.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, spawnResident, tempDir, waitFor } from "./support/run.ts";
import { silentListener } from "./support/servers.ts";
import { spawnServe } from "./support/serve.ts";

const dir = await tempDir("certrole-serve-life-");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

Deno.test("a refused first CreateSession stops serve with one line and exit 1", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), { cn: "someoneElse" });
  try {
    const result = await certrole(["serve", "--port", "0", "--ready-file", `${dir}/never`], {
      env: { HOME: dir, ...sessionEnv(walkthrough, leaf) },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^certrole: CreateSession failed: AccessDeniedException: .*\n$/);
    assert.equal(result.stdout, "", "no variables printed");
    await assert.rejects(Deno.stat(`${dir}/never`), Deno.errors.NotFound);
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("serve writes its env and ready files, logs without secrets, and stops on SIGTERM with 0", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const serve = await spawnServe([
    "--port",
    "0",
    "--token-file",
    `${dir}/token`,
    "--env-file",
    `${dir}/client.env`,
    "--ready-file",
    `${dir}/ready`,
  ], { HOME: dir, ...sessionEnv(walkthrough, leaf) });
  const [session] = Object.values(walkthrough.emulator.state.sessions);
  try {
    const base = serve.base;
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(
      await Deno.readTextFile(`${dir}/client.env`),
      `AWS_CONTAINER_CREDENTIALS_FULL_URI=${base}/v1/credentials\n` +
        `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${dir}/token\n` +
        `AWS_EC2_METADATA_SERVICE_ENDPOINT=${base}/\n`,
    );
    // The ready file comes last, after the export lines spawnServe waited for.
    const ready = await waitFor(() => Deno.readTextFile(`${dir}/ready`).catch(() => undefined), 10_000, "--ready-file");
    assert.equal(ready, `${base}\n`);
    const start = await serve.waitForLog(/^certrole serve: serving role /);
    assert.ok(start.includes(session.accessKeyId) && start.includes(`certificate serial ${session.certificateSerial}`));
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
    serve.child.kill("SIGHUP");
    await serve.waitForLog(/^certrole serve: refreshed \(SIGHUP\) in \d+ ms: access key /);
    assert.equal(Object.keys(walkthrough.emulator.state.sessions).length, 2, "SIGHUP fetched new credentials");
  } finally {
    const { code, stderr } = await serve.stop("SIGTERM");
    await walkthrough.emulator.close();
    assert.equal(code, 0, stderr);
    assert.match(stderr, /certrole serve: stopped on SIGTERM\n$/);
    for (const secret of [session.secretAccessKey, session.sessionToken]) assert.ok(!stderr.includes(secret));
  }
  await assert.rejects(Deno.stat(`${dir}/ready`), Deno.errors.NotFound, "ready file removed");
  await assert.rejects(fetch(`${serve.base}/healthz`), "no longer listening");
});

Deno.test("SIGTERM while the first CreateSession waits ends serve at once", async () => {
  const stuck = silentListener();
  const { child, output, status } = spawnResident(["serve", "--port", "0", "--timeout", "60", "--debug"], {
    HOME: dir,
    ROLESANYWHERE_CERT_LOCATION: leaf.cert,
    ROLESANYWHERE_KEY_LOCATION: leaf.key,
    ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
    ROLESANYWHERE_TRUST_ANCHOR_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/t",
    ROLESANYWHERE_PROFILE_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p",
    ROLESANYWHERE_ROLE_ARN: "arn:aws:iam::123456789012:role/r",
    ROLESANYWHERE_ENDPOINT: `http://127.0.0.1:${stuck.port}`,
  });
  try {
    await waitFor(() => /POST http:\/\/127\.0\.0\.1/.test(output().stderr) || undefined, 20_000, "CreateSession sent");
    child.kill("SIGTERM");
    assert.equal((await status).code, 143);
  } finally {
    stuck.close();
  }
});
