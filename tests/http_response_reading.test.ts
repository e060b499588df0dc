/**
 * certrole's HTTP client reads responses in linear time and refuses ones larger than its cap
 * (1 MiB by default; a 16 MB answer used to take seconds of quadratic copying and then be parsed
 * whole): bodies by Content-Length, chunked or up to the close arrive intact however the server
 * splits its writes, and an oversized answer is one TransportError that names the cap.
 */
import assert from "node:assert/strict";
import { DEFAULT_MAX_RESPONSE_BYTES, send, TransportError } from "../cli/transport/http_client.ts";

/** A TCP server that reads the request head and then runs `answer` on the connection. */
function rawServer(answer: (conn: Deno.Conn) => Promise<void>): { url: URL; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const buffer = new Uint8Array(65536);
        let head = "";
        while (!head.includes("\r\n\r\n")) {
          const n = await conn.read(buffer);
          if (n === null) return;
          head += new TextDecoder().decode(buffer.subarray(0, n));
        }
        await answer(conn);
      })().catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch { /* closed */ }
      });
    }
  })().catch(() => {});
  return {
    url: new URL(`http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/sessions`),
    close: () => listener.close(),
  };
}

const encode = (text: string) => new TextEncoder().encode(text);

async function writeInPieces(conn: Deno.Conn, bytes: Uint8Array, piece: number): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += piece) {
    await conn.write(bytes.subarray(offset, Math.min(bytes.length, offset + piece)));
  }
}

function get(url: URL, maxResponseBytes?: number) {
  return send({ method: "GET", url, headers: {} }, {
    connectTimeoutMs: 5000,
    totalTimeoutMs: 30_000,
    maxResponseBytes,
  });
}

/** A body of `size` bytes whose content shows any misplaced byte. */
function pattern(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, index) => 97 + (index * 7) % 26);
}

Deno.test("Content-Length, chunked and read-to-close bodies arrive intact, however the writes are split", async () => {
  const body = pattern(300_000);
  const chunked = () => {
    const parts: Uint8Array[] = [encode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")];
    for (let offset = 0; offset < body.length; offset += 1000) {
      const chunk = body.subarray(offset, offset + 1000);
      parts.push(encode(`${chunk.length.toString(16)}\r\n`), chunk, encode("\r\n"));
    }
    parts.push(encode("0\r\n\r\n"));
    return new Uint8Array(parts.flatMap((part) => [...part]));
  };
  const answers: Record<string, Uint8Array> = {
    length: new Uint8Array([...encode(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), ...body]),
    chunked: chunked(),
    close: new Uint8Array([...encode("HTTP/1.1 200 OK\r\n\r\n"), ...body]),
  };
  for (const [kind, answer] of Object.entries(answers)) {
    for (const piece of [7, 1500, 65536]) {
      const server = rawServer((conn) => writeInPieces(conn, answer, piece));
      try {
        const response = await get(server.url);
        assert.equal(response.status, 200, kind);
        assert.equal(response.body.length, body.length, `${kind} in pieces of ${piece}`);
        assert.deepEqual(response.body, body, `${kind} in pieces of ${piece}`);
      } finally {
        server.close();
      }
    }
  }
});

Deno.test("a response over the cap is refused, whether it declares its length or not", async () => {
  assert.equal(DEFAULT_MAX_RESPONSE_BYTES, 1024 * 1024);
  const big = new Uint8Array(16 * 1024 * 1024).fill(120);
  const answers: Record<string, Uint8Array[]> = {
    "Content-Length": [encode(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`), big],
    "chunked": [encode(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n`), big],
    "no length": [encode("HTTP/1.1 200 OK\r\n\r\n"), big],
    "endless head": [encode("HTTP/1.1 200 OK\r\n"), new Uint8Array(2 * 1024 * 1024).fill(65)],
  };
  for (const [kind, parts] of Object.entries(answers)) {
    const server = rawServer(async (conn) => {
      for (const part of parts) await conn.write(part);
    });
    try {
      await assert.rejects(
        get(server.url),
        (error: Error) =>
          error instanceof TransportError &&
          /^the response from 127\.0\.0\.1:\d+ is larger than 1048576 bytes/.test(error.message),
        kind,
      );
    } finally {
      server.close();
    }
  }
  const server = rawServer((conn) =>
    writeInPieces(
      conn,
      new Uint8Array([...encode("HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n"), ...big.subarray(0, 2_000_000)]),
      65536,
    )
  );
  try {
    const response = await get(server.url, 4 * 1024 * 1024);
    assert.equal(response.body.length, 2_000_000, "a caller may raise the cap (IAM pages)");
  } finally {
    server.close();
  }
});
