/**
 * One deadline for every wait: --timeout bounds a whole CreateSession attempt, connecting through
 * a proxy included (an HTTPS proxy that accepts and never answers the CONNECT used to keep
 * credential-process waiting forever), --connect-timeout bounds TCP, proxy CONNECT and TLS
 * together, and the help states what a call can take in total with the defaults.
 */
import assert from "node:assert/strict";
import { singleCallEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";
import { silentListener } from "./support/servers.ts";
import { callBudgetMs } from "../cli/transport/retry.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
// The endpoint is never reached: the proxy is where it hangs.
const env = singleCallEnv(leaf, dir, "https://rolesanywhere.us-east-1.amazonaws.com");

/** A proxy that reads the CONNECT and answers 200, then says nothing (no TLS ever comes back). */
function stallingProxy(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      held.push(conn);
      await conn.read(new Uint8Array(4096));
      await conn.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const conn of held) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test("an HTTPS proxy that never answers the CONNECT is bounded by --timeout", async () => {
  const proxy = silentListener();
  try {
    const result = await certrole(["credential-process", "--timeout", "1"], {
      env: { ...env, HTTPS_PROXY: `http://127.0.0.1:${proxy.port}` },
      killAfterMs: 20_000,
    });
    assert.equal(result.killed, false, "still waiting after 20 s");
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^certrole: CreateSession at https:\/\/rolesanywhere\.us-east-1\.amazonaws\.com failed after 1 attempt\(s\): CONNECT to rolesanywhere\.us-east-1\.amazonaws\.com:443 through proxy 127\.0\.0\.1:\d+ timed out after 1s\n$/,
    );
    assert.ok(result.elapsedMs < 10_000, `took ${result.elapsedMs} ms`);
  } finally {
    proxy.close();
  }
});

Deno.test("--connect-timeout covers the proxy's CONNECT and the TLS handshake after it", async () => {
  const silent = silentListener();
  const stalling = stallingProxy();
  try {
    for (
      const [proxy, message] of [
        [silent.port, /CONNECT to rolesanywhere\.us-east-1\.amazonaws\.com:443 through proxy .* timed out after 1s\n$/],
        [stalling.port, /TLS handshake with rolesanywhere\.us-east-1\.amazonaws\.com timed out after 1s\n$/],
      ] as const
    ) {
      const result = await certrole(["credential-process", "--connect-timeout", "1", "--timeout", "30"], {
        env: { ...env, HTTPS_PROXY: `127.0.0.1:${proxy}` },
        killAfterMs: 20_000,
      });
      assert.equal(result.killed, false, "still waiting after 20 s");
      assert.match(result.stderr, message);
      assert.ok(result.elapsedMs < 10_000, `took ${result.elapsedMs} ms`);
    }
  } finally {
    silent.close();
    stalling.close();
  }
});

Deno.test("the help states the defaults and the total a call can take with them", async () => {
  const help = await certrole(["credential-process", "--help"]);
  assert.match(help.stdout, /--connect-timeout SECONDS .*default 3\)/);
  assert.match(help.stdout, /--timeout SECONDS .*default 5\)/);
  assert.equal(callBudgetMs(3, 5000), 18_000, "3 attempts of 5 s, backoff of at most 1 s and 2 s");
  assert.match(
    help.stdout.replace(/\s+/g, " "),
    /fails within 18 s \(3 attempts, AWS_MAX_ATTEMPTS, of at most --timeout 5 s/,
  );
  const exec = await certrole(["exec", "--help"]);
  assert.match(exec.stdout.replace(/\s+/g, " "), /fails within 18 s/);
});
