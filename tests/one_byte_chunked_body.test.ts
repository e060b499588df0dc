/**
 * A chunked body sent as one-byte chunks costs the listener bounded memory and CPU: the limit
 * counts bytes and reads as they arrive, each read is copied into one buffer and dropped (no list
 * or stream queue of a million tiny buffers), so the emulator answers 413 RequestEntityTooLarge
 * within a fraction of the body instead of seconds and hundreds of MB later (`make bench
 * ARGS="--only body"` prints both numbers), and a normal body in one-byte chunks is still read.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { DEFAULT_LIMITS, listen } from "../cli/transport/http_listener.ts";
import { endlessChunkedBody, firstResponse, rawConnection } from "./support/raw_http.ts";

const MIB = 1 << 20;

Deno.test("a body of one-byte chunks is refused 413 long before the limit's worth of chunks arrives", async () => {
  const emulator = await startEmulator();
  const port = Number(new URL(emulator.url).port);
  try {
    // Up to 8 MiB of one-byte chunks (4096 a write), never the last one.
    const block = new TextEncoder().encode("1\r\na\r\n".repeat(4096));
    const { text, sent } = await endlessChunkedBody(port, block, 4096, 8 * MIB);
    const response = firstResponse(text);
    assert.equal(response?.status, 413, `after ${sent} one-byte chunks: ${text.slice(0, 200)}`);
    assert.match(response!.body, /<Code>RequestEntityTooLarge<\/Code>/);
    // The limit takes 16,384 reads for 1 MiB; what a client gets to send meanwhile sits in
    // socket buffers. Counting bytes alone let more than 1 MiB of chunks through.
    assert.ok(sent < MIB, `the client got to send ${sent} one-byte chunks`);
  } finally {
    await emulator.close();
  }
});

Deno.test("a small body in one-byte chunks is still read whole", async () => {
  const server = await listen({
    hostname: "127.0.0.1",
    port: 0,
    limits: DEFAULT_LIMITS,
    reject: (reason) => new Response(reason, { status: 400 }),
  }, async (request) => new Response(await request.text()));
  try {
    const body = "Action=ListRoles&Version=2010-05-08";
    const connection = await rawConnection(server.port);
    await connection.write(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
        `${[...body].map((c) => `1\r\n${c}\r\n`).join("")}0\r\n\r\n`,
    );
    const response = firstResponse((await connection.read(10_000)).text);
    connection.close();
    assert.equal(response?.status, 200);
    assert.equal(response!.body, body, "the handler got the whole body");
  } finally {
    await server.close();
  }
});
