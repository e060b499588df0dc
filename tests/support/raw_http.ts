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
