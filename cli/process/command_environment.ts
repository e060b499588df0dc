/**
 * The environment `certrole exec` hands to the command: the caller's, without what Deno and the
 * launcher added for certrole's own process, and with what the launcher moved aside (a HOME that
 * is not a directory) put back. With no `node` on PATH, Deno 2.9 links `node` to itself in
 * $DENO_DIR/node_compat_bin, puts that first on PATH and sets DENO_NODE_SHIM_ACTIVE, so
 * `certrole exec -- node app.js` would otherwise run Deno. The launcher sets CERTROLE_LAUNCHER,
 * DENO_DISABLE_NODE_SHIM and DENO_NO_UPDATE_CHECK for certrole alone. Pure.
 */
import { LAUNCHER_ENV, LAUNCHER_HOME_ENV } from "../build/launcher.ts";

export function commandEnvironment(current: Readonly<Record<string, string>>): Record<string, string> {
  const env = { ...current };
  if (env[LAUNCHER_ENV] !== undefined) {
    delete env.DENO_DISABLE_NODE_SHIM;
    delete env.DENO_NO_UPDATE_CHECK;
  }
  delete env[LAUNCHER_ENV];
  if (env[LAUNCHER_HOME_ENV] !== undefined) env.HOME = env[LAUNCHER_HOME_ENV];
  delete env[LAUNCHER_HOME_ENV];
  delete env.DENO_NODE_SHIM_ACTIVE;
  if (env.PATH !== undefined) {
    env.PATH = env.PATH.split(":").filter((entry) => !/\/node_compat_bin\/?$/.test(entry)).join(":");
  }
  return env;
}

/**
 * The same for the entries Deno's environment API cannot hold (not UTF-8 text), as NAME=VALUE
 * bytes: a HOME the launcher moved aside is HOME again, and a name `env` sets wins.
 */
export function undecodableCommandEntries(
  entries: readonly Uint8Array[],
  env: Readonly<Record<string, string>>,
): Uint8Array[] {
  const encoder = new TextEncoder();
  const moved = encoder.encode(`${LAUNCHER_HOME_ENV}=`);
  const renamed = entries.map((entry) =>
    moved.every((byte, index) => entry[index] === byte)
      ? Uint8Array.from([...encoder.encode("HOME="), ...entry.subarray(moved.length)])
      : entry
  );
  return renamed.filter((entry) => {
    const name = new TextDecoder().decode(entry.subarray(0, Math.max(0, entry.indexOf(0x3d))));
    return !Object.hasOwn(env, name);
  });
}
