/**
 * When a refresh fails for a passing reason (network, throttling, 5xx, after the retries) and the
 * cache still holds credentials that have not expired, credential-process hands those out with one
 * warning line instead of failing; a refusal (AccessDeniedException) and expired credentials still
 * fail.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";
import { type FailingFront, failingFront } from "./support/servers.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
const caPem = await Deno.readTextFile(ca.cert);

/**
 * Fetches through `front` into a fresh cache, then moves the cached expiration to
 * `expiresInSeconds` from now: as if time had passed, into the 15-minute refresh window.
 */
async function primedCache(env: Record<string, string>, expiresInSeconds: number) {
  const cacheDir = `${await tempDir()}/cache`;
  const first = await certrole(["credential-process", "--cache-dir", cacheDir], { env });
  assert.equal(first.code, 0, first.stderr);
  const name = [...Deno.readDirSync(cacheDir)].find((entry) => entry.name.endsWith(".json"))!.name;
  const path = `${cacheDir}/${name}`;
  const entry = JSON.parse(await Deno.readTextFile(path));
  entry.credentials.expiration = new Date(Date.now() + expiresInSeconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  await Deno.writeTextFile(path, JSON.stringify(entry), { mode: 0o600 });
  return { cacheDir, cached: entry.credentials };
}

async function withFront(body: (env: Record<string, string>, front: FailingFront) => Promise<void>): Promise<void> {
  const walkthrough = await startWalkthrough(caPem);
  const front = failingFront(walkthrough.emulator.url, []);
  try {
    await body({ ...sessionEnv(walkthrough, leaf), ROLESANYWHERE_ENDPOINT: front.url }, front);
  } finally {
    await front.close();
    await walkthrough.emulator.close();
  }
}

const unavailable = { status: 503, body: '{"message":"Service unavailable"}' };

Deno.test("a refresh that keeps failing with 503 hands out the unexpired cached credentials, with one warning", () =>
  withFront(async (env, front) => {
    const { cacheDir, cached } = await primedCache(env, 300);
    front.fail(unavailable, unavailable, unavailable);
    const result = await certrole(["credential-process", "--cache-dir", cacheDir], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(front.requests, 4, "the refresh was tried, with its retries");
    const output = JSON.parse(result.stdout);
    assert.equal(output.AccessKeyId, cached.accessKeyId);
    assert.equal(output.Expiration, cached.expiration);
    assert.match(
      result.stderr,
      new RegExp(
        `^certrole: warning: CreateSession at http://127\\.0\\.0\\.1:\\d+ failed after 3 attempt\\(s\\): HTTP503: Service unavailable; using the cached credentials \\(access key ${cached.accessKeyId}\\), which expire at ${cached.expiration}\\n$`,
      ),
    );
  }));

Deno.test("a refusal, or cached credentials that have expired, still fail the call", () =>
  withFront(async (env, front) => {
    const { cacheDir } = await primedCache(env, 300);
    front.fail({
      status: 403,
      headers: { "x-amzn-errortype": "AccessDeniedException" },
      body: '{"message":"Untrusted signing certificate"}',
    });
    const refused = await certrole(["credential-process", "--cache-dir", cacheDir], { env });
    assert.equal(refused.code, 1);
    // One line, the refusal itself (with its next step), and no fallback to the cache.
    assert.match(
      refused.stderr,
      /^certrole: CreateSession failed: AccessDeniedException: Untrusted signing certificate[^\n]*\n$/,
    );
    const expired = await primedCache(env, -10);
    front.fail(unavailable, unavailable, unavailable);
    const result = await certrole(["credential-process", "--cache-dir", expired.cacheDir], { env });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^certrole: CreateSession at .* failed after 3 attempt\(s\): HTTP503/);
  }));
