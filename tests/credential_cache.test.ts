/**
 * The credential cache: reuse until close to expiry, private files, atomic writes, one
 * CreateSession for ten concurrent AWS CLI commands, and cache state that is corrupt, too
 * open or owned by someone else ignored rather than trusted.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough, type Walkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

async function withWalkthrough(body: (walkthrough: Walkthrough, cacheDir: string) => Promise<void>) {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), { acceptRoleSessionName: true });
  const cacheDir = `${await tempDir()}/cache`;
  try {
    await body(walkthrough, cacheDir);
  } finally {
    await walkthrough.emulator.close();
  }
}

async function fetchKey(
  walkthrough: Walkthrough,
  cacheDir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
) {
  const result = await certrole(["credential-process", "--cache-dir", cacheDir, ...extra], {
    env: { ...sessionEnv(walkthrough, leaf), ...env },
  });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).AccessKeyId as string;
}

async function cacheFiles(cacheDir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(cacheDir)) {
    if (entry.name.endsWith(".json")) names.push(`${cacheDir}/${entry.name}`);
  }
  return names;
}

Deno.test("a second call is answered from the cache; files are private", () =>
  withWalkthrough(async (walkthrough, cacheDir) => {
    const first = await fetchKey(walkthrough, cacheDir);
    const second = await fetchKey(walkthrough, cacheDir);
    assert.equal(second, first);
    assert.equal(walkthrough.emulator.state.sessionsIssued, 1);
    assert.equal((await Deno.stat(cacheDir)).mode! & 0o777, 0o700);
    const [file] = await cacheFiles(cacheDir);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    const leftovers = [];
    for await (const entry of Deno.readDir(cacheDir)) if (entry.name.endsWith(".tmp")) leftovers.push(entry.name);
    assert.deepEqual(leftovers, [], "no temporary files left behind");
  }));

Deno.test("--no-cache and ROLESANYWHERE_NO_CACHE call CreateSession every time and write nothing", () =>
  withWalkthrough(async (walkthrough, cacheDir) => {
    const a = await fetchKey(walkthrough, cacheDir, ["--no-cache"]);
    const b = await fetchKey(walkthrough, cacheDir, [], { ROLESANYWHERE_NO_CACHE: "true" });
    assert.notEqual(a, b);
    assert.equal(walkthrough.emulator.state.sessionsIssued, 2);
    await assert.rejects(Deno.stat(cacheDir), Deno.errors.NotFound);
  }));

Deno.test("different roles, durations and session names get separate entries", () =>
  withWalkthrough(async (walkthrough, cacheDir) => {
    const a = await fetchKey(walkthrough, cacheDir);
    const b = await fetchKey(walkthrough, cacheDir, ["--session-duration", "1800"]);
    const c = await fetchKey(walkthrough, cacheDir, ["--role-session-name", "worker-1"]);
    assert.equal(new Set([a, b, c]).size, 3);
    assert.equal((await cacheFiles(cacheDir)).length, 3);
    assert.equal(await fetchKey(walkthrough, cacheDir, ["--role-session-name", "worker-1"]), c);
  }));

Deno.test("credentials close to expiry are refreshed: 15 minutes by default, --refresh-before to change", () =>
  withWalkthrough(async (walkthrough, cacheDir) => {
    await fetchKey(walkthrough, cacheDir);
    const [file] = await cacheFiles(cacheDir);
    const cached = JSON.parse(await Deno.readTextFile(file));
    const rewrite = async (minutesLeft: number) => {
      cached.credentials.expiration = new Date(Date.now() + minutesLeft * 60_000).toISOString();
      await Deno.writeTextFile(file, JSON.stringify(cached), { mode: 0o600 });
    };
    await rewrite(20);
    assert.equal(await fetchKey(walkthrough, cacheDir), cached.credentials.accessKeyId, "20 minutes left: reused");
    await rewrite(12);
    const refreshed = await fetchKey(walkthrough, cacheDir);
    assert.notEqual(
      refreshed,
      cached.credentials.accessKeyId,
      "12 minutes left: botocore would reject them, so refresh",
    );
    const again = JSON.parse(await Deno.readTextFile(file));
    cached.credentials = again.credentials;
    await rewrite(12);
    assert.equal(await fetchKey(walkthrough, cacheDir, ["--refresh-before", "300"]), again.credentials.accessKeyId);
  }));

Deno.test("corrupt, group-readable and foreign-owned cache files are ignored and replaced", () =>
  withWalkthrough(async (walkthrough, cacheDir) => {
    const first = await fetchKey(walkthrough, cacheDir);
    const [file] = await cacheFiles(cacheDir);
    await Deno.writeTextFile(file, "{ not json");
    const second = await fetchKey(walkthrough, cacheDir);
    assert.notEqual(second, first);
    assert.equal(
      JSON.parse(await Deno.readTextFile(file)).credentials.accessKeyId,
      second,
      "replaced with good credentials",
    );
    await Deno.chmod(file, 0o644);
    const third = await fetchKey(walkthrough, cacheDir);
    assert.notEqual(third, second, "a file others can read is not trusted");
    if (Deno.uid() === 0) {
      await Deno.chown(file, 65534, 65534);
      const fourth = await fetchKey(walkthrough, cacheDir);
      assert.notEqual(fourth, third, "a file owned by another user is not trusted");
      assert.equal((await Deno.stat(file)).uid, 0, "and is replaced by one of ours");
    }
    assert.equal(walkthrough.emulator.state.sessionsIssued, Deno.uid() === 0 ? 4 : 3);
  }));

Deno.test("ten concurrent AWS CLI commands share one CreateSession", () =>
  withWalkthrough(async (walkthrough, cacheDir) => {
    const env = await credentialProcessEnv(await tempDir(), "concurrent", leaf, walkthrough, walkthrough.emulator.url, {
      args: ["--cache-dir", cacheDir],
    });
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        () =>
          run(AWS, [
            "sts",
            "get-caller-identity",
            "--endpoint-url",
            walkthrough.emulator.url,
            "--output",
            "text",
          ], { env }),
      ),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.equal(walkthrough.emulator.state.sessionsIssued, 1);
  }));
