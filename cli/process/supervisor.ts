/**
 * What tini does, for `certrole exec --supervise`: run the command as a child, forward the
 * signals a container gets to it, reap every zombie re-parented to us (we are PID 1, or else a
 * child subreaper), and end with the child's exit code (128 + the signal when it was killed).
 * Signals never stop the supervisor itself: a second SIGTERM during shutdown is forwarded again,
 * so the child is never orphaned. SIGUSR1 is not forwarded: Deno ≥ 2.9.2 opens an unauthenticated
 * V8 inspector on 127.0.0.1:9229 in any process that handles it (denoland/deno#35738).
 *
 * Deno reaps its own child; orphans are reaped through libc's waitid/waitpid (FFI): a peek with
 * WNOWAIT names a waitable child without reaping it, and only PIDs that are not Deno's child are
 * then reaped, so Deno's wait for the command is never raced.
 */

import { fail, messageOf } from "../errors.ts";
import { type Libc, openLibc } from "./libc.ts";
import { guardRuntime, releaseForExec } from "./runtime_guard.ts";

/** Forwarded to the child as they arrive. */
export const FORWARDED_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR2", "SIGWINCH"] as const;

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

/** The exit code a shell would report for the child's status. */
export function exitCodeOf(status: Deno.CommandStatus): number {
  if (status.signal) return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  return status.code;
}

const P_ALL = 0;
const WNOHANG = 1;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
const PR_SET_CHILD_SUBREAPER = 36;
/** siginfo_t.si_pid on Linux: after si_signo, si_errno, si_code and padding. */
const SI_PID_OFFSET = 16;

/** Reaps every exited child except `keep` (Deno's own); returns how many. */
function reapOrphans(libc: Libc, keep: number): number {
  const info = new Uint8Array(128);
  const status = new Uint8Array(4);
  let reaped = 0;
  while (true) {
    info.fill(0);
    if (libc.waitid(P_ALL, 0, info, WEXITED | WNOHANG | WNOWAIT) !== 0) return reaped; // ECHILD: none left
    const pid = new DataView(info.buffer).getInt32(SI_PID_OFFSET, true);
    if (pid === 0 || pid === keep) return reaped; // nothing exited, or only Deno's child (Deno reaps it)
    if (libc.waitpid(pid, status, WNOHANG) === pid) reaped++;
    else return reaped;
  }
}

export interface SuperviseOptions {
  readonly path: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly debug: (line: string) => void;
  /** Called once the signals are forwarded (the caller drops its own pre-start handlers). */
  readonly started?: () => void;
}

/** Runs the command to its end, supervising it; resolves with the exit code to end with. */
export async function supervise(options: SuperviseOptions): Promise<number> {
  const opened = openLibc();
  if (opened instanceof Error) fail("UnsupportedExecMode", `--supervise needs libc (${messageOf(opened)})`);
  const libc = opened;
  if (Deno.pid !== 1) libc.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n); // orphans come to us, as to PID 1
  const command = new Deno.Command(options.path, {
    args: options.argv.slice(1),
    env: { ...options.env },
    clearEnv: true,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  });
  // The child inherits signal dispositions and limits at fork: it gets the ones certrole started
  // with (SIGUSR1 not ignored, core limit as before), and the guard is back at once.
  releaseForExec();
  let child: Deno.ChildProcess;
  try {
    child = command.spawn();
  } finally {
    guardRuntime();
  }
  options.debug(`supervising ${options.path} as PID ${child.pid}`);
  const listeners = FORWARDED_SIGNALS.map((signal) =>
    [signal, () => {
      options.debug(`forwarding ${signal} to PID ${child.pid}`);
      try {
        child.kill(signal);
      } catch { /* already exited */ }
    }] as const
  );
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  options.started?.();
  const reap = () => {
    const count = reapOrphans(libc, child.pid);
    if (count) options.debug(`reaped ${count} orphaned process(es)`);
  };
  Deno.addSignalListener("SIGCHLD", reap);
  const sweep = setInterval(reap, 1000); // a SIGCHLD that arrived while one was being handled
  try {
    const status = await child.status;
    reap();
    return exitCodeOf(status);
  } finally {
    // The forwarding listeners stay until the process exits: as PID 1, a signal without a JS
    // listener would reach Deno's own handler, which ends in SIGSEGV there.
    clearInterval(sweep);
    Deno.removeSignalListener("SIGCHLD", reap);
  }
}
