/**
 * No client holds certrole's servers (the emulator, `serve`) open: over TLS, a connection that
 * never sends a ClientHello is dropped after the handshake timeout (node:https's default is two
 * minutes), and on SIGTERM both close idle keep-alive connections and half-open ones (TCP up, no
 * handshake) and exit at once instead of waiting for them.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { sessionEnv, spawnEmulator, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa, tlsServer } from "./support/pki.ts";
import { rawConnection } from "./support/raw_http.ts";
import { tempDir } from "./support/run.ts";
import { spawnServe } from "./support/serve.ts";

const dir = await tempDir("certrole-held-connections-");
/** Far below the 10 s handshake timeout the commands run with: the exit did not wait for it. */
const PROMPT_EXIT_MS = 5000;

const tls = await tlsServer(`${dir}/tls`); // PEM texts, and files in that folder

/** A TLS connection that made one request, got its answer, and stays open (HTTP/1.1 keep-alive). */
async function keptAlive(port: number, ca: string) {
  const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] });
  await conn.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const buffer = new Uint8Array(4096);
  const n = await conn.read(buffer);
  assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^HTTP\/1\.1 \d{3}/);
  return () => {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  };
}

async function timedStop(stop: () => Promise<{ code: number; stderr: string }>, kill: () => void) {
  const started = Date.now();
  const guard = setTimeout(kill, 30_000); // a hang fails the test instead of holding it
  try {
    return { ...await stop(), ms: Date.now() - started };
  } finally {
    clearTimeout(guard);
  }
}

Deno.test("a TLS connection that never sends a ClientHello is dropped after the handshake timeout", async () => {
  const emulator = await startEmulator({
    tls: { cert: tls.cert, key: tls.key },
    limits: { headersTimeoutMs: 500 },
  });
  const silent = await rawConnection(Number(new URL(emulator.url).port));
  try {
    // Sends nothing, not even a ClientHello.
    assert.equal((await silent.read(6000)).closed, true, "the connection was held past the handshake timeout");
  } finally {
    silent.close();
    await emulator.close();
  }
});

Deno.test("on SIGTERM the TLS emulator closes idle and half-open connections and exits at once", async () => {
  const emulator = await spawnEmulator(dir, ["--tls", "--ca-bundle", `${dir}/emulator-ca.pem`]);
  const port = Number(new URL(emulator.url).port);
  const idle = await keptAlive(port, await Deno.readTextFile(`${dir}/emulator-ca.pem`));
  const silent = await rawConnection(port);
  await new Promise((resolve) => setTimeout(resolve, 200)); // accepted by the server
  const { code, stderr, ms } = await timedStop(
    () => emulator.stop("SIGTERM"),
    () => Deno.kill(emulator.pid, "SIGKILL"),
  );
  idle();
  silent.close();
  assert.equal(code, 0, stderr);
  assert.ok(ms < PROMPT_EXIT_MS, `the emulator took ${ms} ms to exit`);
});

Deno.test("on SIGTERM serve over TLS closes idle and half-open connections and exits at once", async () => {
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const serve = await spawnServe([
    "--port",
    "0",
    "--token-file",
    `${dir}/token`,
    "--tls-cert",
    `${dir}/tls/server.pem`,
    "--tls-key",
    `${dir}/tls/server.key`,
  ], { HOME: dir, ...sessionEnv(walkthrough, leaf) });
  try {
    const port = Number(new URL(serve.base).port);
    const idle = await keptAlive(port, await Deno.readTextFile(tls.ca));
    const silent = await rawConnection(port);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { code, stderr, ms } = await timedStop(() => serve.stop("SIGTERM"), () => serve.child.kill("SIGKILL"));
    idle();
    silent.close();
    assert.equal(code, 0, stderr);
    assert.ok(ms < PROMPT_EXIT_MS, `serve took ${ms} ms to exit`);
  } finally {
    await walkthrough.emulator.close();
  }
});
