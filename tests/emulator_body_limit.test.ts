/**
 * The 1 MiB body limit holds for every transfer encoding: a chunked body with no end is
 * answered 413 RequestEntityTooLarge (in the service's format) while it is still arriving,
 * after about the limit, instead of being read into memory to the end; a declared Content-Length
 * over the limit is refused before any of it is read; and the emulator keeps serving.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { endlessChunkedBody, firstResponse, rawConnection } from "./support/raw_http.ts";

const MIB = 1 << 20;

Deno.test("a chunked body is refused once it passes 1 MiB, before it ends", async () => {
  const emulator = await startEmulator();
  const port = Number(new URL(emulator.url).port);
  try {
    // 64 KiB chunks, never the last one: a server that reads to the end never answers.
    const chunk = new TextEncoder().encode(`${(64 * 1024).toString(16)}\r\n${"a".repeat(64 * 1024)}\r\n`);
    const { text, sent } = await endlessChunkedBody(port, chunk, 64 * 1024, 64 * MIB);
    const response = firstResponse(text);
    assert.equal(response?.status, 413, `after ${sent / MIB} MiB: ${text.slice(0, 200)}`);
    assert.match(response!.body, /<Code>RequestEntityTooLarge<\/Code>/);
    assert.ok(sent < 32 * MIB, `the client got to send ${sent / MIB} MiB`);

    const declared = await rawConnection(port);
    await declared.write(`PUT /bucket HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${400 * MIB}\r\n\r\n`);
    const refused = firstResponse((await declared.read(10_000)).text);
    declared.close();
    assert.equal(refused?.status, 413);

    const after = await fetch(`${emulator.url}/trustanchors`);
    await after.body?.cancel();
    assert.equal(after.status, 403, "still serving");
  } finally {
    await emulator.close();
  }
});
