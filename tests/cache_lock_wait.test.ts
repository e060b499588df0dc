/**
 * Waiting on the cache lock is bounded by the caller's own --timeout: behind a stopped (SIGSTOP)
 * holder a caller used to wait forever, behind a slow one as long as it took. After --timeout it
 * calls CreateSession without the lock; a stale lock (held, but its recorded holder is gone: a
 * leaked descriptor) is not waited on at all.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough, type Walkthrough } from "./support/emulator.ts";
import { issueLeaf, type Leaf, makeCa } from "./support/pki.ts";
import { baseEnv, certrole, certroleArgv, run, tempDir } from "./support/run.ts";
import { failingFront, type Front } from "./support/servers.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
const caPem = await Deno.readTextFile(ca.cert);

/** The emulator behind a front that holds its first answer `firstDelayMs`, the others not at all. */
async function withSlowFirstAnswer(
  firstDelayMs: number,
  body: (walkthrough: Walkthrough, front: Front, leaf: Leaf) => Promise<void>,
): Promise<void> {
  const walkthrough = await startWalkthrough(caPem);
  const front = failingFront(walkthrough.emulator.url, [], { delayMs: (n) => n === 1 ? firstDelayMs : 0 });
  try {
    await body(walkthrough, front, leaf);
  } finally {
    await front.close();
    await walkthrough.emulator.close();
  }
}

/** The lock file once a holder has written its record into it. */
async function heldLock(cacheDir: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    for (
      const entry of (() => {
        try {
          return [...Deno.readDirSync(cacheDir)];
        } catch {
          return [];
        }
      })()
    ) {
      const path = `${cacheDir}/${entry.name}`;
      if (entry.name.endsWith(".lock") && Deno.readTextFileSync(path).trim()) return path;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("no holder took the lock");
}

function spawnHolder(env: Record<string, string>, cacheDir: string): Deno.ChildProcess {
  const [command, ...prefix] = certroleArgv();
  return new Deno.Command(command, {
    args: [...prefix, "credential-process", "--cache-dir", cacheDir, "--timeout", "60"],
    clearEnv: true,
    env: { ...baseEnv(), ...env },
    stdout: "null",
    stderr: "null",
  }).spawn();
}

Deno.test("behind a stopped lock holder, the next caller waits --timeout, then fetches on its own", () =>
  withSlowFirstAnswer(60_000, async (walkthrough, front) => {
    const cacheDir = `${await tempDir()}/cache`;
    const env = { ...sessionEnv(walkthrough, leaf), ROLESANYWHERE_ENDPOINT: front.url };
    const holder = spawnHolder(env, cacheDir);
    try {
      await heldLock(cacheDir);
      Deno.kill(holder.pid, "SIGSTOP");
      const result = await certrole(
        ["credential-process", "--cache-dir", cacheDir, "--timeout", "2", "--debug"],
        { env, killAfterMs: 20_000 },
      );
      assert.equal(result.killed, false, "still waiting behind the stopped holder after 20 s");
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /gave up waiting for the cache lock after 2(\.\d)?s: calling CreateSession without it/,
      );
      assert.equal(JSON.parse(result.stdout).Version, 1);
      assert.equal(walkthrough.emulator.state.sessionsIssued, 1, "the waiter's own CreateSession");
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
    }
  }));

Deno.test("behind a slow lock holder, the next caller gives up waiting after its --timeout", () =>
  withSlowFirstAnswer(4_000, async (walkthrough, front) => {
    const cacheDir = `${await tempDir()}/cache`;
    const env = { ...sessionEnv(walkthrough, leaf), ROLESANYWHERE_ENDPOINT: front.url };
    const holder = spawnHolder(env, cacheDir);
    try {
      await heldLock(cacheDir);
      const result = await certrole(
        ["credential-process", "--cache-dir", cacheDir, "--timeout", "2", "--debug"],
        { env, killAfterMs: 20_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /gave up waiting for the cache lock after 2(\.\d)?s/);
    } finally {
      assert.equal((await holder.status).code, 0, "the slow holder still gets its answer");
    }
  }));

Deno.test("a lock still held after its recorded holder is gone is stale: not waited on", async () => {
  const walkthrough = await startWalkthrough(caPem);
  const cacheDir = `${await tempDir()}/cache`;
  const env = sessionEnv(walkthrough, leaf);
  try {
    const first = await certrole(["credential-process", "--cache-dir", cacheDir], { env });
    assert.equal(first.code, 0, first.stderr);
    const names = [...Deno.readDirSync(cacheDir)].map((entry) => entry.name);
    const lock = `${cacheDir}/${names.find((name) => name.endsWith(".lock"))}`;
    for (const name of names.filter((name) => name.endsWith(".json"))) await Deno.remove(`${cacheDir}/${name}`);
    // A descriptor that outlived its process: flock(1) holds the lock, the record names a dead PID.
    const dead = new Deno.Command("true").spawn();
    await dead.status;
    const holder = new Deno.Command("flock", { args: [lock, "sleep", "60"] }).spawn();
    try {
      while ((await run("flock", ["--nonblock", lock, "true"])).code === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await Deno.writeTextFile(lock, `${dead.pid} ${Deno.readLinkSync("/proc/self/ns/pid")}\n`);
      const result = await certrole(
        ["credential-process", "--cache-dir", cacheDir, "--timeout", "30", "--debug"],
        { env, killAfterMs: 20_000 },
      );
      assert.equal(result.killed, false, "waited on a stale lock");
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(
          `the cache lock is stale \\(its holder, PID ${dead.pid}, is gone\\): calling CreateSession without it`,
        ),
      );
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
    }
  } finally {
    await walkthrough.emulator.close();
  }
});
