/**
 * The 1 MiB body limit holds for every transfer encoding: a chunked body with no end is
 * answered 413 RequestEntityTooLarge (in the service's format) while it is still arriving,
 * after about the limit, instead of being read into memory to the end; a declared Content-Length
 * over the limit is refused before any of it is read; and the emulator keeps serving.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { firstResponse, rawConnection } from "./support/raw_http.ts";

const MIB = 1 << 20;

Deno.test("a chunked body is refused once it passes 1 MiB, before it ends", async () => {
  const emulator = await startEmulator();
  const port = Number(new URL(emulator.url).port);
  try {
    const connection = await rawConnection(port);
    await connection.write(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const answer = connection.read(30_000);
    let answered = false;
    answer.then(() => answered = true);
    const chunk = new TextEncoder().encode(`${(64 * 1024).toString(16)}\r\n${"a".repeat(64 * 1024)}\r\n`);
    let sent = 0;
    // Never the last chunk: a server that reads to the end never answers.
    while (!answered && sent < 64 * MIB && await connection.write(chunk)) {
      sent += 64 * 1024;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const { text } = await answer;
    connection.close();
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
