/**
 * The environment `certrole exec` hands to the command: the caller's, without what Deno and the
 * launcher added for certrole's own process. With no `node` on PATH, Deno 2.9 links `node` to
 * itself in $DENO_DIR/node_compat_bin, puts that first on PATH and sets DENO_NODE_SHIM_ACTIVE,
 * so `certrole exec -- node app.js` would otherwise run Deno. The launcher sets
 * CERTROLE_LAUNCHER, DENO_DISABLE_NODE_SHIM and DENO_NO_UPDATE_CHECK for certrole alone, and
 * keeps the caller's NODE_OPTIONS (and a HOME that is not a directory) out of Deno's way: the
 * command gets them back. Pure.
 */
import { CALLER_HOME_ENV, CALLER_NODE_OPTIONS_ENV, LAUNCHER_ENV } from "../build/launcher.ts";

export function commandEnvironment(current: Readonly<Record<string, string>>): Record<string, string> {
  const env = { ...current };
  if (env[LAUNCHER_ENV] !== undefined) {
    delete env.DENO_DISABLE_NODE_SHIM;
    delete env.DENO_NO_UPDATE_CHECK;
    if (env[CALLER_NODE_OPTIONS_ENV] !== undefined) env.NODE_OPTIONS = env[CALLER_NODE_OPTIONS_ENV];
    if (env[CALLER_HOME_ENV] !== undefined) env.HOME = env[CALLER_HOME_ENV];
  }
  delete env[CALLER_NODE_OPTIONS_ENV];
  delete env[CALLER_HOME_ENV];
  delete env[LAUNCHER_ENV];
  delete env.DENO_NODE_SHIM_ACTIVE;
  if (env.PATH !== undefined) {
    env.PATH = env.PATH.split(":").filter((entry) => !/\/node_compat_bin\/?$/.test(entry)).join(":");
  }
  return env;
}

/**
 * The same for the entries Deno's environment API cannot hold (not UTF-8 text), as NAME=VALUE
 * bytes: what the launcher moved aside (HOME, NODE_OPTIONS) gets its name back, and a name `env`
 * sets wins.
 */
export function undecodableCommandEntries(
  entries: readonly Uint8Array[],
  env: Readonly<Record<string, string>>,
): Uint8Array[] {
  const encoder = new TextEncoder();
  const moved = [[CALLER_HOME_ENV, "HOME"], [CALLER_NODE_OPTIONS_ENV, "NODE_OPTIONS"]].map(([from, to]) => ({
    from: encoder.encode(`${from}=`),
    to: encoder.encode(`${to}=`),
  }));
  const renamed = entries.map((entry) => {
    const rename = moved.find(({ from }) => from.every((byte, index) => entry[index] === byte));
    return rename ? Uint8Array.from([...rename.to, ...entry.subarray(rename.from.length)]) : entry;
  });
  return renamed.filter((entry) => {
    const name = new TextDecoder().decode(entry.subarray(0, Math.max(0, entry.indexOf(0x3d))));
    return !Object.hasOwn(env, name);
  });
}
