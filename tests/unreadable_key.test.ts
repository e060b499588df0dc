/**
 * A key the process's user cannot read (the walkthrough's openssl writes 0600 root-owned keys,
 * the images run as 65532:65532): `certrole exec` stops with one line naming the uid and gid it
 * runs as, the file's owner and mode, and the fix; the fix as printed (chgrp, chmod 0640) then
 * lets the same user start. Runs the installed certrole as uid 65532 (setpriv), so only as root.
 */
import assert from "node:assert/strict";
import { offlineExecEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { run, tempDir } from "./support/run.ts";
import { asNobody, canRunUnprivileged, unprivilegedLauncher } from "./support/unprivileged.ts";

const USER = 65532;

Deno.test({
  name: "exec as 65532 on a 0600 root key: uid/gid, owner, mode and the chgrp/chmod fix, which works",
  ignore: !canRunUnprivileged,
  fn: async () => {
    const dir = await tempDir("certrole unreadable ");
    const ca = await makeCa(`${dir}/ca`);
    const leaf = await issueLeaf(ca, "container");
    for (const path of [dir, `${dir}/ca`, leaf.cert]) await Deno.chmod(path, path === leaf.cert ? 0o644 : 0o755);
    await Deno.chmod(leaf.key, 0o600);
    const home = `${dir}/home`;
    await Deno.mkdir(home);
    await Deno.chown(home, USER, USER);
    const launcher = await unprivilegedLauncher();
    const [setpriv, ...args] = asNobody([launcher, "exec", "--", "true"], USER);
    const asImageUser = () => run(setpriv, args, { env: { ...offlineExecEnv(leaf, home), DENO_DIR: `${home}/deno` } });

    const refused = await asImageUser();
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(
      refused.stderr,
      `certrole: private key file "${leaf.key}" (owner 0:0, mode 0600) is not readable by this process's user ` +
        `(uid ${USER}, gid ${USER}): give that group read access (chgrp ${USER} '${leaf.key}' && chmod 0640 '${leaf.key}'), ` +
        "or run as a user that can read it (docker run --user UID:GID)\n",
    );

    const fix = await run("sh", ["-c", refused.stderr.match(/\((chgrp [^)]*)\)/)![1]]);
    assert.equal(fix.code, 0, fix.stderr);
    const started = await asImageUser();
    assert.equal(started.code, 0, started.stderr);
    await Deno.remove(dir, { recursive: true });
  },
});
