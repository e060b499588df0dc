/**
 * A proxy URL's password (HTTPS_PROXY=http://user:secret@host:port) never reaches a message or
 * --debug output: the proxy is shown as http://***:***@host:port (the AWS CLI's masking), when
 * the proxy refuses the connection, answers the CONNECT with 407, or the setting is malformed.
 */
import assert from "node:assert/strict";
import { CertroleError } from "../cli/errors.ts";
import { proxyFor, redactedProxyUrl } from "../cli/transport/http_client.ts";
import { singleCallEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const SECRET = "s3cr3t-Pa55";
const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
const env = singleCallEnv(leaf, dir, "https://rolesanywhere.us-east-1.amazonaws.com");

/** Every form the password could leak in: as typed, URL-decoded, and inside the Basic credentials. */
function assertNoSecret(text: string, user = "alice", secret = SECRET): void {
  for (const form of [secret, decodeURIComponent(secret), `${user}:${decodeURIComponent(secret)}`]) {
    assert.ok(!text.includes(form), `the password shows in:\n${text}`);
  }
  assert.ok(!text.includes(new TextEncoder().encode(`${user}:${decodeURIComponent(secret)}`).toBase64()), text);
}

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A proxy that wants credentials it will never accept: 407 to every CONNECT. */
function refusingProxy(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096));
      await conn.write(new TextEncoder().encode("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"));
      conn.close();
    }
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

Deno.test("redactedProxyUrl masks the user and password of valid and malformed settings", () => {
  assert.equal(redactedProxyUrl(`http://alice:${SECRET}@proxy:3128`), "http://***:***@proxy:3128");
  assert.equal(redactedProxyUrl(`http://alice:${SECRET}@proxy:3128/`), "http://***:***@proxy:3128/");
  assert.equal(redactedProxyUrl(`alice:${SECRET}@proxy:3128`), "***:***@proxy:3128");
  assert.equal(redactedProxyUrl(`http://alice:pa/ss@w@rd@proxy:99999`), "http://***:***@proxy:99999");
  assert.equal(redactedProxyUrl("http://proxy:3128"), "http://proxy:3128");
});

Deno.test("a malformed proxy setting with a password is named without it", () => {
  const target = new URL("https://rolesanywhere.us-east-1.amazonaws.com");
  for (
    const value of [
      `http://alice:${SECRET}@127.0.0.1:99999`,
      `http://alice:${SECRET}@[::1`,
      `ftp://alice:${SECRET}@proxy`,
      `http://alice:pa/${SECRET}@proxy:3128`,
    ]
  ) {
    assert.throws(() => proxyFor(target, (name) => name === "HTTPS_PROXY" ? value : undefined), (error: unknown) => {
      assert.ok(error instanceof CertroleError);
      assert.match(error.message, /^HTTPS_PROXY ".*\*\*\*:\*\*\*@.*" is not a proxy URL/);
      assertNoSecret(error.message);
      return true;
    });
  }
});

Deno.test("credential-process --debug through a refusing proxy shows ***:*** for its credentials", async () => {
  const refusing = refusingProxy();
  try {
    for (
      const [proxy, failure] of [
        [`http://alice:${SECRET}@127.0.0.1:${closedPort()}`, /connection to proxy 127\.0\.0\.1:\d+ refused\n$/],
        [`http://alice:${encodeURIComponent("p@ss:" + SECRET)}@127.0.0.1:${refusing.port}`, /\(HTTP 407\)\n$/],
        [
          `alice:${SECRET}@127.0.0.1:99999`,
          /^certrole: HTTPS_PROXY "\*\*\*:\*\*\*@127\.0\.0\.1:99999" is not a proxy/m,
        ],
      ] as const
    ) {
      const result = await certrole(["credential-process", "--debug", "--timeout", "2"], {
        env: { ...env, HTTPS_PROXY: proxy },
        killAfterMs: 20_000,
      });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, failure);
      assertNoSecret(result.stdout + result.stderr, "alice", proxy.match(/:([^:@]*)@/)![1]);
      if (!proxy.includes("99999")) {
        assert.match(result.stderr, /^certrole debug: through proxy http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/$/m);
      }
    }
  } finally {
    refusing.close();
  }
});
