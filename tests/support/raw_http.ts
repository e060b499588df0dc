/**
 * HTTP/1.1 by hand over TCP, for tests of what a server does with requests no HTTP client would
 * send: half a header, nothing at all, an endless chunked body, a malformed request line.
 */

export interface RawConnection {
  /** Writes all of `data`; false once the server has closed (or reset) the connection. */
  write(data: string | Uint8Array): Promise<boolean>;
  /**
   * What the server sends until it closes the connection or `deadlineMs` passes:
   * `closed` says which (a reset counts as closed).
   */
  read(deadlineMs: number): Promise<{ text: string; closed: boolean }>;
  close(): void;
}

export async function rawConnection(port: number): Promise<RawConnection> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let open = true;
  const encoder = new TextEncoder();
  return {
    async write(data) {
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      try {
        for (let done = 0; done < bytes.length;) done += await conn.write(bytes.subarray(done));
        return true;
      } catch {
        return false;
      }
    },
    async read(deadlineMs) {
      const buffer = new Uint8Array(65536);
      const decoder = new TextDecoder();
      let text = "";
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<"deadline">((resolve) => timer = setTimeout(() => resolve("deadline"), deadlineMs));
      try {
        while (true) {
          const reading = conn.read(buffer);
          reading.catch(() => {}); // still pending when the deadline wins and the caller closes
          const n = await Promise.race([reading, deadline]);
          if (n === "deadline") return { text, closed: false };
          if (n === null) return { text, closed: true };
          text += decoder.decode(buffer.subarray(0, n));
        }
      } catch {
        return { text, closed: true };
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      if (!open) return;
      open = false;
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/** The status code and body of the first response in `text`. */
export function firstResponse(text: string): { status: number; headers: string; body: string } | undefined {
  const match = text.match(/^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/);
  if (!match) return undefined;
  return { status: Number(match[1]), headers: match[2].toLowerCase(), body: match[3] };
}

/**
 * A chunked POST that never ends: `block` (whole chunks) written again and again until the server
 * answers, closes, or `maxBodyBytes` of body went out. `bodyBytesPerBlock` is what one block carries.
 */
export async function endlessChunkedBody(
  port: number,
  block: Uint8Array,
  bodyBytesPerBlock: number,
  maxBodyBytes: number,
): Promise<{ text: string; sent: number }> {
  const connection = await rawConnection(port);
  try {
    await connection.write(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const answer = connection.read(60_000);
    let answered = false;
    answer.then(() => answered = true);
    let sent = 0;
    while (!answered && sent < maxBodyBytes && await connection.write(block)) {
      sent += bodyBytesPerBlock;
      await new Promise((resolve) => setTimeout(resolve, 0)); // lets the answer in
    }
    return { text: (await answer).text, sent };
  } finally {
    connection.close();
  }
}
