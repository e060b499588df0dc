/**
 * How CreateSession travels: retries with backoff on throttling, 5xx and network errors (up to
 * AWS_MAX_ATTEMPTS), none on client errors; connect and total timeouts; TLS verified against
 * AWS_CA_BUNDLE; HTTPS_PROXY (CONNECT), HTTP_PROXY and NO_PROXY; a malformed proxy setting is one
 * line naming the variable.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough, type Walkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa, tlsServer } from "./support/pki.ts";
import { OFFLINE_ARNS } from "./support/exec.ts";
import { failingFront, httpProxy, silentListener } from "./support/servers.ts";
import { certrole, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
const caPem = await Deno.readTextFile(ca.cert);

const tlsMaterial = () => tlsServer(`${dir}/tls`);

async function withWalkthrough(body: (walkthrough: Walkthrough) => Promise<void>, tls?: { cert: string; key: string }) {
  const walkthrough = await startWalkthrough(caPem, { tls });
  try {
    await body(walkthrough);
  } finally {
    await walkthrough.emulator.close();
  }
}

function fetchVia(walkthrough: Walkthrough, endpoint: string, env: Record<string, string> = {}, args: string[] = []) {
  return certrole(["credential-process", "--no-cache", ...args], {
    env: { ...sessionEnv(walkthrough, leaf), ROLESANYWHERE_ENDPOINT: endpoint, ...env },
  });
}

Deno.test("503 and 429 are retried, and the third attempt succeeds", () =>
  withWalkthrough(async (walkthrough) => {
    const front = failingFront(walkthrough.emulator.url, [{ status: 503 }, { status: 429 }]);
    try {
      const result = await fetchVia(walkthrough, front.url, {}, ["--debug"]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(front.requests, 3);
      assert.match(result.stderr, /retrying in \d+ ms \(attempt 2 of 3\) after HTTP503/);
      assert.equal(walkthrough.emulator.state.sessionsIssued, 1);
    } finally {
      await front.close();
    }
  }));

Deno.test("ThrottlingException is retried; AWS_MAX_ATTEMPTS bounds the attempts", () =>
  withWalkthrough(async (walkthrough) => {
    const throttled = {
      status: 400,
      headers: { "x-amzn-errortype": "ThrottlingException", "content-type": "application/json" },
      body: '{"message":"Rate exceeded"}',
    };
    const front = failingFront(walkthrough.emulator.url, [throttled, throttled, throttled]);
    try {
      const result = await fetchVia(walkthrough, front.url, { AWS_MAX_ATTEMPTS: "2" });
      assert.equal(result.code, 1);
      assert.equal(front.requests, 2);
      assert.match(
        result.stderr,
        /^certrole: CreateSession at http:\/\/127\.0\.0\.1:\d+ failed after 2 attempt\(s\): ThrottlingException: Rate exceeded\n$/,
      );
    } finally {
      await front.close();
    }
  }));

Deno.test("AccessDeniedException is not retried and is reported as code: message", () =>
  withWalkthrough(async (walkthrough) => {
    const front = failingFront(walkthrough.emulator.url, [{
      status: 403,
      headers: {
        "x-amzn-errortype": "AccessDeniedException:http://internal.amazon.com/coral/com.amazonaws.rolesanywhere/",
      },
      body: '{"message":"Untrusted signing certificate"}',
    }]);
    try {
      const result = await fetchVia(walkthrough, front.url);
      assert.equal(front.requests, 1);
      // The next step it adds is untrusted_certificate.test.ts's.
      assert.match(
        result.stderr,
        /^certrole: CreateSession failed: AccessDeniedException: Untrusted signing certificate: /,
      );
      assert.equal(result.stderr.split("\n").length, 2, result.stderr);
      assert.equal(result.code, 1);
    } finally {
      await front.close();
    }
  }));

Deno.test("a server that never answers hits the total timeout; one that never handshakes hits the connect timeout", () =>
  withWalkthrough(async (walkthrough) => {
    const silent = silentListener();
    try {
      const started = Date.now();
      const stuck = await fetchVia(walkthrough, `http://127.0.0.1:${silent.port}`, { AWS_MAX_ATTEMPTS: "1" }, [
        "--timeout",
        "1",
      ]);
      assert.match(stuck.stderr, /request to 127\.0\.0\.1:\d+ timed out after 1s/);
      const handshake = await fetchVia(walkthrough, `https://127.0.0.1:${silent.port}`, { AWS_MAX_ATTEMPTS: "1" }, [
        "--connect-timeout",
        "1",
      ]);
      assert.match(
        handshake.stderr,
        /TLS handshake with 127\.0\.0\.1:\d+ timed out after 1s|connecting to 127\.0\.0\.1:\d+ timed out after 1s/,
      );
      assert.ok(Date.now() - started < 8000, "both gave up promptly");
    } finally {
      silent.close();
    }
  }));

Deno.test("TLS is verified: an unknown CA fails with a hint, AWS_CA_BUNDLE makes it work", async () => {
  const tls = await tlsMaterial();
  await withWalkthrough(async (walkthrough) => {
    assert.match(walkthrough.emulator.url, /^https:\/\/localhost:\d+$/);
    const untrusted = await fetchVia(walkthrough, walkthrough.emulator.url, { AWS_MAX_ATTEMPTS: "1" });
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /TLS verification of localhost:\d+ failed .*set AWS_CA_BUNDLE/);
    const trusted = await fetchVia(walkthrough, walkthrough.emulator.url, { AWS_CA_BUNDLE: tls.ca });
    assert.equal(trusted.code, 0, trusted.stderr);
    const missing = await fetchVia(walkthrough, walkthrough.emulator.url, { AWS_CA_BUNDLE: `${dir}/none.pem` });
    assert.match(missing.stderr, /AWS_CA_BUNDLE file ".*none\.pem" cannot be read/);
  }, tls);
});

Deno.test("HTTPS_PROXY tunnels with CONNECT, HTTP_PROXY forwards, NO_PROXY bypasses", async () => {
  const tls = await tlsMaterial();
  const proxy = httpProxy();
  try {
    await withWalkthrough(async (walkthrough) => {
      const port = new URL(walkthrough.emulator.url).port;
      const result = await fetchVia(walkthrough, walkthrough.emulator.url, {
        AWS_CA_BUNDLE: tls.ca,
        HTTPS_PROXY: proxy.url,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(proxy.targets, [`CONNECT localhost:${port}`]);
    }, tls);
    await withWalkthrough(async (walkthrough) => {
      const result = await fetchVia(walkthrough, walkthrough.emulator.url, { http_proxy: proxy.url });
      assert.equal(result.code, 0, result.stderr);
      assert.match(proxy.targets.at(-1)!, /^POST http:\/\/127\.0\.0\.1:\d+\/sessions\?profileArn=/);
      const dead = silentListener();
      dead.close();
      const bypassed = await fetchVia(walkthrough, walkthrough.emulator.url, {
        HTTP_PROXY: `http://127.0.0.1:${dead.port}`,
        NO_PROXY: "example.com,127.0.0.1",
      });
      assert.equal(bypassed.code, 0, bypassed.stderr);
    });
  } finally {
    proxy.close();
  }
});

Deno.test("a proxy setting that is not an http:// URL is one line naming the variable", async () => {
  for (
    const [name, value] of [["HTTPS_PROXY", "http://[::1"], ["https_proxy", "socks5://127.0.0.1:1080"], [
      "HTTPS_PROXY",
      "http://",
    ]]
  ) {
    const result = await certrole(["credential-process", "--no-cache"], {
      env: {
        ...OFFLINE_ARNS,
        ROLESANYWHERE_CERT_LOCATION: leaf.cert,
        ROLESANYWHERE_KEY_LOCATION: leaf.key,
        ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
        ROLESANYWHERE_ENDPOINT: "https://rolesanywhere.us-east-1.amazonaws.com",
        [name]: value,
      },
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `certrole: ${name} "${value}" is not a proxy URL like http://proxy.example.com:3128: fix or unset ${name}\n`,
    );
  }
});
