/**
 * certrole as an unprivileged user, as a container run with `--user 65534` runs it: certrole
 * installed (launcher, Deno, bundle) into a world-readable directory (the clone may not be),
 * started through setpriv as uid and gid 65534 with no supplementary groups. Needs root.
 */
import { ROOT, run } from "./run.ts";

export const NOBODY = 65534;

export const canRunUnprivileged = Deno.uid() === 0 &&
  (await run("setpriv", ["--version"]).catch(() => ({ code: 1 }))).code === 0;

let built: Promise<string> | undefined;

/** The launcher of a bundle built once per test process, runnable by any user. */
export function unprivilegedLauncher(): Promise<string> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "certrole-unprivileged-" });
    await Deno.chmod(dir, 0o755);
    // An installation (its own copy of Deno): the clone, and the Deno in it, may sit under /root.
    const result = await run(Deno.execPath(), ["run", "-A", `${ROOT}/scripts/build.ts`, "--prefix", dir]);
    if (result.code !== 0) throw new Error(`building the bundle failed: ${result.stderr}`);
    return `${dir}/bin/certrole`;
  })();
  return built;
}

/** `argv` run as 65534:65534, or another numeric user (the process keeps the PID setpriv had: it execs). */
export function asNobody(argv: readonly string[], user = NOBODY): string[] {
  return ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--clear-groups", ...argv];
}

/** A directory (and its parents' search permission) that 65534 can read and, with `writable`, write. */
export async function nobodyDir(path: string, writable: boolean): Promise<string> {
  await Deno.mkdir(path, { recursive: true });
  if (writable) await Deno.chown(path, NOBODY, NOBODY);
  await Deno.chmod(path, writable ? 0o700 : 0o555);
  return path;
}
