/**
 * As a container's PID 1, certrole must not swallow `docker stop` or crash on a hangup: the kernel
 * drops signals PID 1 has no handler for, and Deno's own handler (in place after 500 ms) ends in
 * SIGSEGV for SIGHUP. While certrole's preflight is still waiting on CreateSession, SIGTERM ends it
 * with 143 and SIGHUP with 129, as for any other process. Runs certrole as PID 1 of a new PID
 * namespace (unshare, as root).
 */
import assert from "node:assert/strict";
import { silentListener } from "./support/servers.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { baseEnv, certroleArgv, run, tempDir } from "./support/run.ts";

const canUnshare = Deno.uid() === 0 &&
  (await run("unshare", ["--fork", "--pid", "--mount-proc", "true"]).catch(() => ({ code: 1 }))).code === 0;

for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`${signal} during the preflight ends certrole as PID 1 with ${code}`, { ignore: !canUnshare }, async () => {
    const dir = await tempDir();
    const ca = await makeCa(dir);
    const leaf = await issueLeaf(ca, "leaf");
    const stuck = silentListener();
    try {
      const startedAt = Date.now();
      const child = new Deno.Command("unshare", {
        args: [
          "--fork",
          "--pid",
          "--mount-proc",
          ...certroleArgv(),
          "exec",
          "--no-cache",
          "--timeout",
          "60",
          "--",
          "true",
        ],
        clearEnv: true,
        env: {
          ...baseEnv(),
          HOME: dir,
          ROLESANYWHERE_CERT_LOCATION: leaf.cert,
          ROLESANYWHERE_KEY_LOCATION: leaf.key,
          ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
          ROLESANYWHERE_TRUST_ANCHOR_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/t",
          ROLESANYWHERE_PROFILE_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p",
          ROLESANYWHERE_ROLE_ARN: "arn:aws:iam::123456789012:role/r",
          ROLESANYWHERE_ENDPOINT: `http://127.0.0.1:${stuck.port}`,
          ROLESANYWHERE_DEBUG: "1",
        },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // Wait until certrole (PID 1 inside) has sent CreateSession, then signal it from outside.
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!/POST http:\/\/127\.0\.0\.1/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      assert.match(seen, /POST http/, seen);
      const inner = (await run("pgrep", ["-P", String(child.pid)])).stdout.trim();
      assert.match(inner, /^\d+$/, "the namespace's PID 1 as the host sees it");
      // Past Deno's 500 ms grace period, when its own handlers are in place.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + 1000 - Date.now())));
      Deno.kill(Number(inner), signal);
      const status = await child.status;
      assert.equal(status.code, code, `${signal}: exit ${status.code}, signal ${status.signal}`);
      await reader.cancel();
    } finally {
      stuck.close();
    }
  });
}
