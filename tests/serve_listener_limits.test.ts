/**
 * `certrole serve` listens through the same listener as the emulator, with its limits: a header
 * section over 16 KiB is refused 431 and a body over 16 KiB (no route reads one) 413, both as the
 * JSON errors its routes answer, before a route sees them, and it keeps serving afterwards.
 * (Deno.serve, which serve used before, let both through to the routes.)
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { firstResponse, rawConnection } from "./support/raw_http.ts";
import { tempDir } from "./support/run.ts";
import { spawnServe } from "./support/serve.ts";

const dir = await tempDir("certrole-serve-limits-");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

Deno.test("serve refuses oversized headers and bodies in its own JSON error format", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const serve = await spawnServe(["--port", "0", "--token-file", `${dir}/token`], {
    HOME: dir,
    ...sessionEnv(walkthrough, leaf),
  });
  try {
    const port = Number(new URL(serve.base).port);
    const headers = await rawConnection(port);
    await headers.write(
      `GET /v1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${"t".repeat(20_000)}\r\n\r\n`,
    );
    const tooLong = firstResponse((await headers.read(10_000)).text);
    headers.close();
    assert.equal(tooLong?.status, 431);
    assert.equal(JSON.parse(tooLong!.body).Code, "RequestHeaderFieldsTooLarge");

    const body = await rawConnection(port);
    await body.write(
      `PUT /latest/api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\n` +
        `Content-Length: 100000\r\n\r\n${"b".repeat(100_000)}`,
    );
    const tooBig = firstResponse((await body.read(10_000)).text);
    body.close();
    assert.equal(tooBig?.status, 413);
    assert.equal(JSON.parse(tooBig!.body).Code, "RequestEntityTooLarge");

    const health = await fetch(`${serve.base}/healthz`);
    assert.equal(health.status, 200, "still serving");
    await health.body?.cancel();
  } finally {
    const { code, stderr } = await serve.stop("SIGTERM");
    await walkthrough.emulator.close();
    assert.equal(code, 0, stderr);
  }
});
