/**
 * The environment `certrole exec` hands to the command: the caller's, without what Deno and the
 * launcher added for certrole's own process. With no `node` on PATH, Deno 2.9 links `node` to
 * itself in $DENO_DIR/node_compat_bin, puts that first on PATH and sets DENO_NODE_SHIM_ACTIVE,
 * so `certrole exec -- node app.js` would otherwise run Deno. The launcher sets
 * CERTROLE_LAUNCHER, DENO_DISABLE_NODE_SHIM and DENO_NO_UPDATE_CHECK for certrole alone, and
 * keeps the caller's NODE_OPTIONS out of Deno's way: the command gets it back. Pure.
 */
import { CALLER_NODE_OPTIONS_ENV, LAUNCHER_ENV } from "../build/launcher.ts";

export function commandEnvironment(current: Readonly<Record<string, string>>): Record<string, string> {
  const env = { ...current };
  if (env[LAUNCHER_ENV] !== undefined) {
    delete env.DENO_DISABLE_NODE_SHIM;
    delete env.DENO_NO_UPDATE_CHECK;
    if (env[CALLER_NODE_OPTIONS_ENV] !== undefined) env.NODE_OPTIONS = env[CALLER_NODE_OPTIONS_ENV];
  }
  delete env[CALLER_NODE_OPTIONS_ENV];
  delete env[LAUNCHER_ENV];
  delete env.DENO_NODE_SHIM_ACTIVE;
  if (env.PATH !== undefined) {
    env.PATH = env.PATH.split(":").filter((entry) => !/\/node_compat_bin\/?$/.test(entry)).join(":");
  }
  return env;
}
