/**
 * `certrole exec` really replaces itself: the command keeps certrole's PID, stdin and stdout,
 * receives signals sent to that PID, exits with its own code (and dies by its own signals),
 * runs with SIGPIPE at its default (so `yes | head -n 1` ends), and a missing or
 * non-executable command gives sh's 127 / 126.
 */
import assert from "node:assert/strict";
import { offlineExecEnv, spawnCertrole } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
/** Local checks run; the network preflight is off, so these tests need no emulator. */
const env = offlineExecEnv(leaf, dir);

Deno.test("the command runs with certrole's PID and stdio", async () => {
  const { child, lines } = spawnCertrole(["exec", "--", "sh", "-c", 'echo "pid $$"; cat'], env);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("through stdin\n"));
  await writer.close();
  assert.equal((await lines.next()).value, `pid ${child.pid}`);
  assert.equal((await lines.next()).value, "through stdin");
  const status = await child.status;
  assert.equal(status.code, 0);
  await child.stderr.cancel();
});

Deno.test("exit codes pass through: 0, 1, 42, and 128+N from a shell whose child died by a signal", async () => {
  for (const code of [0, 1, 42]) {
    const result = await certrole(["exec", "--", "sh", "-c", `exit ${code}`], { env });
    assert.equal(result.code, code, result.stderr);
  }
  const nested = await certrole(["exec", "--", "sh", "-c", 'sh -c "kill -TERM \\$\\$"; exit $?'], { env });
  assert.equal(nested.code, 143);
});

Deno.test("a signal that kills the command kills the process certrole started as", async () => {
  const { child, lines } = spawnCertrole(["exec", "--", "sh", "-c", "kill -KILL $$"], env);
  for await (const _ of lines) { /* drain */ }
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  assert.equal(status.code, 137);
  await child.stderr.cancel();
});

Deno.test("SIGTERM sent to the PID reaches the command", async () => {
  const { child, lines } = spawnCertrole([
    "exec",
    "--",
    "sh",
    "-c",
    'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done',
  ], env);
  assert.equal((await lines.next()).value, "ready");
  child.kill("SIGTERM");
  assert.equal((await lines.next()).value, "got TERM");
  assert.equal((await child.status).code, 7);
  await child.stderr.cancel();
});

Deno.test("SIGPIPE is back at its default: yes | head -n 1 ends, and yes dies of SIGPIPE", async () => {
  const result = await certrole(["exec", "--", "sh", "-c", '(yes; echo "yes exited $?" >&2) | head -n 1'], { env });
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "y\n");
  assert.match(result.stderr, /yes exited 141/, "141 = 128 + SIGPIPE; with SIGPIPE ignored yes would exit 1 on EPIPE");
});

Deno.test("command not found is 127, not executable is 126, no command is a usage error", async () => {
  const missing = await certrole(["exec", "--", "no-such-command-xyz"], { env });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /^certrole: no-such-command-xyz: command not found \(PATH=/);
  await Deno.writeTextFile(`${dir}/not-executable.sh`, "echo hi\n");
  const notExecutable = await certrole(["exec", "--", `${dir}/not-executable.sh`], { env });
  assert.equal(notExecutable.code, 126);
  assert.match(notExecutable.stderr, /not-executable\.sh: permission denied/);
  const none = await certrole(["exec"], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no command to run/);
});

Deno.test("a script without #! runs through sh, as execvp does", async () => {
  await Deno.writeTextFile(`${dir}/plain-script`, 'echo "plain script ran"\n', { mode: 0o755 });
  const result = await certrole(["exec", "--", `${dir}/plain-script`], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "plain script ran\n");
});
