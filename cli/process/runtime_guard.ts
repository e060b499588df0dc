/**
 * Closes two holes the Deno runtime leaves in a process that holds secrets (a decrypted key, a
 * passphrase, credentials, the emulator's admin secret). cli/main.ts calls `guardRuntime()` before
 * every command's `run`, so a command needs to do nothing itself; anything that runs certrole code
 * outside cli/main.ts and holds a secret for longer than half a second calls it first.
 *
 * - SIGUSR1 opens an unauthenticated V8 inspector. Since Deno 2.9.2 a process that has lived
 *   500 ms gets a SIGUSR1 handler that starts the inspector on 127.0.0.1:9229
 *   (denoland/deno#35738); whoever connects can read the process's memory, and every container of
 *   a Kubernetes pod shares that loopback. No flag turns it off in 2.9.6, and a JS listener does
 *   not stop it. Deno installs its signal handlers through a registry that calls sigaction(2) only
 *   the first time a signal gets a listener, so adding (and removing) a listener for SIGUSR1 makes
 *   that first time now, and SIGUSR1 is then set to SIG_IGN and read back: when the inspector's
 *   listener comes at 500 ms the disposition stays SIG_IGN (Deno 2.9.6; tests/runtime_guard.test.ts
 *   signals real certrole processes past the grace period, so a Deno that behaves otherwise fails
 *   it). No timer re-checks it: the first timer a Deno process creates costs about 4 ms, a sixth of
 *   a cached credential-process.
 * - A crash must not write the decrypted key into a core file: the process is made non-dumpable
 *   (prctl PR_SET_DUMPABLE 0, which also keeps other processes of the same user from ptrace and
 *   /proc/PID/mem) and its soft RLIMIT_CORE is set to 0.
 *
 * One consequence to know: with a signal listener in place, Deno handles SIGHUP, SIGINT and
 * SIGTERM too, and as PID 1 (where a re-raised signal is never delivered) its handler ends in
 * SIGSEGV unless a JS listener takes the signal. A command that may run as a container's PID 1
 * listens for all three (exec does). Deno does the same on its own 500 ms after start.
 *
 * `releaseForExec()` undoes what execve(2) would otherwise hand to exec's command (an ignored
 * signal stays ignored across exec, resource limits are inherited; the kernel itself makes the new
 * program dumpable again).
 *
 * @example
 * ```ts
 * guardRuntime(); // at start; idempotent
 * ```
 */
import { disposition, getResourceLimit, type Libc, openLibc, setDisposition, setResourceLimit } from "./libc.ts";

const SIGUSR1 = 10;
const PR_SET_DUMPABLE = 4;
const RLIMIT_CORE = 4;

interface Guarded {
  readonly libc: Libc;
  /** What exec's command should get back. */
  readonly originalUsr1: "default" | "ignore";
  readonly originalCoreSoft?: bigint;
}

let guarded: Guarded | undefined;

/**
 * Ignores SIGUSR1 for good and forbids core dumps. Call it before any secret is read; calling it
 * again does nothing. Where it cannot work (not Linux/glibc, no --allow-ffi) it says so in one
 * warning line on stderr and the process carries on.
 */
export function guardRuntime(): void {
  if (guarded) return;
  const libc = openLibc();
  if (libc instanceof Error) {
    warn(`cannot close Deno's SIGUSR1 inspector or disable core dumps (${libc.message.split("\n")[0]})`);
    return;
  }
  const problems: string[] = [];
  let originalCoreSoft: bigint | undefined;
  try {
    if (libc.prctl(PR_SET_DUMPABLE, 0n, 0n, 0n, 0n) !== 0) problems.push("prctl(PR_SET_DUMPABLE) failed");
    const limit = getResourceLimit(libc, RLIMIT_CORE);
    originalCoreSoft = limit.soft;
    setResourceLimit(libc, RLIMIT_CORE, { soft: 0n, hard: limit.hard });
  } catch (error) {
    problems.push(String(error instanceof Error ? error.message : error));
  }
  let originalUsr1: "default" | "ignore" = "default";
  try {
    if (disposition(libc, SIGUSR1) === "ignore") originalUsr1 = "ignore";
    const listener = () => {};
    Deno.addSignalListener("SIGUSR1", listener);
    Deno.removeSignalListener("SIGUSR1", listener);
    setDisposition(libc, SIGUSR1, "ignore");
    if (disposition(libc, SIGUSR1) !== "ignore") problems.push("SIGUSR1 is still handled after sigaction");
  } catch (error) {
    problems.push(String(error instanceof Error ? error.message : error));
  }
  guarded = { libc, originalUsr1, originalCoreSoft };
  if (problems.length) warn(`runtime guard incomplete: ${problems.join("; ")}`);
}

/**
 * Just before execve: SIGUSR1 and the core-dump limit go back to what certrole started with, so
 * the command runs as it would have without certrole in front of it.
 */
export function releaseForExec(): void {
  if (!guarded) return;
  const { libc, originalUsr1, originalCoreSoft } = guarded;
  setDisposition(libc, SIGUSR1, originalUsr1);
  if (originalCoreSoft !== undefined) {
    const { hard } = getResourceLimit(libc, RLIMIT_CORE);
    setResourceLimit(libc, RLIMIT_CORE, { soft: originalCoreSoft, hard });
  }
  guarded = undefined;
}

function warn(message: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`certrole: warning: ${message}\n`));
}
