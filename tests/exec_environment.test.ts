/**
 * The command gets the caller's environment, not the one Deno built for certrole: no node shim
 * directory on PATH, no DENO_NODE_SHIM_ACTIVE, no launcher variables; and everything else,
 * ROLESANYWHERE_* included (the credential process needs them), passes through.
 */
import assert from "node:assert/strict";
import { commandEnvironment } from "../cli/process/command_environment.ts";
import { offlineExecEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

Deno.test("commandEnvironment drops Deno's node shim and the launcher's variables, nothing else", () => {
  const env = commandEnvironment({
    PATH: "/root/.cache/deno/node_compat_bin:/usr/local/bin:/usr/bin",
    DENO_NODE_SHIM_ACTIVE: "1",
    CERTROLE_LAUNCHER: "/usr/local/bin/certrole",
    DENO_DISABLE_NODE_SHIM: "1",
    ROLESANYWHERE_KEY_PASSPHRASE: "kept",
    HOME: "/home/certrole",
  });
  assert.deepEqual(env, {
    PATH: "/usr/local/bin:/usr/bin",
    ROLESANYWHERE_KEY_PASSPHRASE: "kept",
    HOME: "/home/certrole",
  });
  assert.equal(
    commandEnvironment({ DENO_DISABLE_NODE_SHIM: "1" }).DENO_DISABLE_NODE_SHIM,
    "1",
    "a user's own setting stays",
  );
});

Deno.test("run from source with no node on PATH, the command sees the caller's PATH", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin);
  for (const tool of ["sh", "env"]) await Deno.symlink(tool === "sh" ? "/bin/sh" : "/usr/bin/env", `${bin}/${tool}`);
  const result = await certrole(["exec", "--", "env"], {
    env: { ...offlineExecEnv(leaf, dir), PATH: bin },
  });
  assert.equal(result.code, 0, result.stderr);
  const env = Object.fromEntries(
    result.stdout.trim().split("\n").map((
      line,
    ) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  assert.equal(env.PATH, bin);
  assert.equal(env.DENO_NODE_SHIM_ACTIVE, undefined);
  assert.equal(env.ROLESANYWHERE_KEY_PASSPHRASE, leaf.passphrase);
});
