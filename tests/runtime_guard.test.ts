/**
 * certrole's long-running processes close the holes the Deno runtime leaves open
 * (cli/process/runtime_guard.ts): after SIGUSR1 nothing listens on 127.0.0.1:9229 (Deno >= 2.9.2
 * would start an unauthenticated V8 inspector there) in the emulator, in a credential-process
 * waiting on a slow CreateSession, in exec before it replaces itself, in serve and in the
 * exec --supervise supervisor (which therefore cannot forward SIGUSR1); no core dump can be
 * written (soft core limit 0, non-dumpable: a process of the same user cannot read its memory);
 * and exec's command gets the caller's SIGUSR1 disposition and core limit back.
 */
import assert from "node:assert/strict";
import { sessionEnv, spawnEmulator, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { baseEnv, certroleArgv, spawnResident, tempDir, waitFor } from "./support/run.ts";
import { spawnServe } from "./support/serve.ts";
import { failingFront } from "./support/servers.ts";
import { asNobody, canRunUnprivileged, NOBODY, unprivilegedLauncher } from "./support/unprivileged.ts";

const INSPECTOR_PORT = 9229;
const SIGUSR1_BIT = 1n << 9n;
/** Deno installs its SIGUSR1 handler 500 ms after start: signal well after that. */
const PAST_GRACE_MS = 1200;

function statusField(pid: number, field: string): string {
  const line = Deno.readTextFileSync(`/proc/${pid}/status`).split("\n").find((text) => text.startsWith(`${field}:`));
  assert.ok(line, `no ${field} in /proc/${pid}/status`);
  return line.slice(field.length + 1).trim();
}

function signalSet(pid: number, field: "SigIgn" | "SigCgt"): bigint {
  return BigInt(`0x${statusField(pid, field)}`);
}

/** True when one of the process's own sockets listens on the inspector port. */
function listensOnInspectorPort(pid: number): boolean {
  const inodes = new Set<string>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const match = Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`).match(/^socket:\[(\d+)\]$/);
      if (match) inodes.add(match[1]);
    } catch { /* closed meanwhile */ }
  }
  for (const table of ["tcp", "tcp6"]) {
    for (const line of Deno.readTextFileSync(`/proc/${pid}/net/${table}`).split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 10) continue;
      const port = parseInt(columns[1].split(":")[1], 16);
      if (port === INSPECTOR_PORT && columns[3] === "0A" && inodes.has(columns[9])) return true;
    }
  }
  return false;
}

function softCoreLimit(pid: number): string {
  const line = Deno.readTextFileSync(`/proc/${pid}/limits`).split("\n").find((text) => text.startsWith("Max core"));
  return line!.split(/\s{2,}/)[1];
}

/** Sends SIGUSR1 once the process has lived past Deno's grace period and checks it changed nothing. */
async function assertSigusr1Harmless(pid: number, startedAt: number): Promise<void> {
  await sleep(Math.max(0, startedAt + PAST_GRACE_MS - Date.now()));
  Deno.kill(pid, "SIGUSR1");
  await sleep(300);
  assert.equal(signalSet(pid, "SigIgn") & SIGUSR1_BIT, SIGUSR1_BIT, "SIGUSR1 is ignored");
  assert.equal(signalSet(pid, "SigCgt") & SIGUSR1_BIT, 0n, "no SIGUSR1 handler");
  assert.equal(listensOnInspectorPort(pid), false, `PID ${pid} listens on ${INSPECTOR_PORT}`);
  assert.equal(softCoreLimit(pid), "0", "soft core limit");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("the emulator ignores SIGUSR1 (no inspector on 9229) and cannot dump core", async () => {
  const dir = await tempDir();
  const startedAt = Date.now();
  const emulator = await spawnEmulator(dir);
  try {
    await assertSigusr1Harmless(emulator.pid, startedAt);
  } finally {
    const { code, stderr } = await emulator.stop();
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /Debugger listening/);
  }
});

// SIGQUIT's default action dumps core (into the cwd, with this machine's core_pattern "core"). A
// test run started in the background by a shell without job control inherits SIGQUIT ignored,
// and so would the emulator: nothing to prove then.
const SIGQUIT_BIT = 1n << 2n;
const sigquitIgnored = (signalSet(Deno.pid, "SigIgn") & SIGQUIT_BIT) !== 0n;
Deno.test({
  name: "SIGQUIT (which dumps core by default) leaves no core file",
  ignore: sigquitIgnored,
}, async () => {
  const dir = await tempDir();
  const [command, ...prefix] = certroleArgv();
  // Start with an unlimited core limit, as a shell with `ulimit -c unlimited` would.
  const child = new Deno.Command("sh", {
    args: ["-c", 'ulimit -c unlimited && exec "$@"', "sh", command, ...prefix, "emulator", "--port", "0"],
    cwd: dir,
    clearEnv: true,
    env: baseEnv(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("AWS_DEFAULT_REGION")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  assert.equal(softCoreLimit(child.pid), "0");
  Deno.kill(child.pid, "SIGQUIT");
  const status = await child.status;
  await reader.cancel();
  await child.stderr.cancel();
  assert.equal(status.signal, "SIGQUIT");
  assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) => name.startsWith("core")), []);
});

Deno.test(
  "as an unprivileged user the emulator is not dumpable: its /proc files belong to root, its memory is unreadable",
  { ignore: !canRunUnprivileged },
  async () => {
    const launcher = await unprivilegedLauncher();
    const home = await Deno.makeTempDir();
    await Deno.chown(home, NOBODY, NOBODY);
    const [setpriv, ...args] = asNobody([launcher, "emulator", "--port", "0"]);
    const child = new Deno.Command(setpriv, {
      args,
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin", HOME: home, DENO_DIR: `${home}/deno` },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("AWS_DEFAULT_REGION")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    try {
      assert.match(statusField(child.pid, "Uid"), new RegExp(`^${NOBODY}\\s`), "runs as 65534");
      // A dumpable process's /proc/PID files belong to its own uid.
      assert.equal(Deno.statSync(`/proc/${child.pid}/environ`).uid, 0);
      assert.equal(Deno.statSync(`/proc/${child.pid}/mem`).uid, 0);
      const [peeker, ...peekArgs] = asNobody(["cat", `/proc/${child.pid}/environ`]);
      const peek = await new Deno.Command(peeker, {
        args: peekArgs,
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.notEqual(peek.code, 0, "another process of the same user reads the emulator's environment");
      assert.match(new TextDecoder().decode(peek.stderr), /Permission denied/);
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await reader.cancel();
      await child.stderr.cancel();
    }
  },
);

Deno.test("credential-process waiting on a slow CreateSession ignores SIGUSR1 and still answers", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const slow = failingFront(walkthrough.emulator.url, [], { delayMs: 2500 });
  try {
    const [command, ...prefix] = certroleArgv();
    const startedAt = Date.now();
    const child = new Deno.Command(command, {
      args: [...prefix, "credential-process", "--no-cache"],
      clearEnv: true,
      env: { ...baseEnv(), HOME: dir, ...sessionEnv(walkthrough, leaf), ROLESANYWHERE_ENDPOINT: slow.url },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await assertSigusr1Harmless(child.pid, startedAt);
    const output = await child.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.doesNotMatch(stderr, /Debugger listening/);
    assert.equal(JSON.parse(new TextDecoder().decode(output.stdout)).Version, 1);
  } finally {
    await slow.close();
    await walkthrough.emulator.close();
  }
});

Deno.test("exec ignores SIGUSR1 before it replaces itself; the command gets the caller's SIGUSR1 and core limit back", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const slow = failingFront(walkthrough.emulator.url, [], { delayMs: 2500 });
  try {
    const [command, ...prefix] = certroleArgv();
    const report = 'grep -E "^Sig(Ign|Cgt)" /proc/self/status; ulimit -c';
    const startedAt = Date.now();
    // sh sets a soft core limit (512-byte blocks in dash) and execs certrole: same PID.
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        'ulimit -S -c 2048 && exec "$@"',
        "sh",
        command,
        ...prefix,
        "exec",
        "--no-cache",
        "--",
        "sh",
        "-c",
        report,
      ],
      clearEnv: true,
      env: { ...baseEnv(), HOME: dir, ...sessionEnv(walkthrough, leaf), ROLESANYWHERE_ENDPOINT: slow.url },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await assertSigusr1Harmless(child.pid, startedAt);
    const output = await child.output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.doesNotMatch(stderr, /Debugger listening/);
    const ignored = BigInt(`0x${stdout.match(/^SigIgn:\s*([0-9a-f]+)/m)![1]}`);
    assert.equal(ignored & SIGUSR1_BIT, 0n, "SIGUSR1 is back to its default in the command");
    assert.equal(ignored & (1n << 12n), 0n, "SIGPIPE is back to its default in the command");
    assert.match(stdout, /^2048$/m, "the command has the caller's core limit");
  } finally {
    await slow.close();
    await walkthrough.emulator.close();
  }
});

Deno.test("serve ignores SIGUSR1 and keeps serving", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const startedAt = Date.now();
    const serve = await spawnServe(["--port", "0", "--token-file", `${dir}/token`], {
      HOME: dir,
      ...sessionEnv(walkthrough, leaf),
    });
    try {
      await assertSigusr1Harmless(serve.child.pid, startedAt);
      assert.equal((await fetch(`${serve.base}/healthz`)).status, 200);
    } finally {
      const { code, stderr } = await serve.stop();
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /Debugger listening/);
    }
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("the exec --supervise supervisor ignores SIGUSR1 while its command runs", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const startedAt = Date.now();
    const supervised = spawnResident([
      "exec",
      "--supervise",
      "--no-cache",
      "--",
      "sh",
      "-c",
      "echo started; exec sleep 30",
    ], {
      HOME: dir,
      ...sessionEnv(walkthrough, leaf),
    });
    await waitFor(() => supervised.output().stdout.includes("started") || undefined, 30_000, "the command to start");
    await assertSigusr1Harmless(supervised.child.pid, startedAt);
    supervised.child.kill("SIGTERM");
    const status = await supervised.status;
    assert.equal(status.code, 128 + 15, supervised.output().stderr);
    assert.doesNotMatch(supervised.output().stderr, /Debugger listening/);
  } finally {
    await walkthrough.emulator.close();
  }
});
