/**
 * Network peers for transport tests: a front that answers with canned failures before passing
 * requests through to a real endpoint, one that records every request it passes (to replay
 * them), a TCP listener that never answers, and an HTTP proxy (absolute-form and CONNECT) that
 * records what it carried.
 */

export interface Front {
  readonly url: string;
  /** Requests seen, failures included. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * Answers with each of `failures` in turn, then forwards to `target` (Host header kept, so
 * signatures hold); with `delayMs`, answers wait that long first (a slow endpoint), every answer
 * or, given a function of the request's number (1 for the first), the ones it says.
 */
export interface FailingFront extends Front {
  /** Queues more failures: the next requests get them before forwarding resumes. */
  fail(...failures: { status: number; headers?: Record<string, string>; body?: string }[]): void;
}

export function failingFront(
  target: string,
  failures: { status: number; headers?: Record<string, string>; body?: string }[],
  options: { delayMs?: number | ((request: number) => number) } = {},
): FailingFront {
  let requests = 0;
  const queue = [...failures];
  const waiting = new Set<() => void>();
  const client = Deno.createHttpClient({ allowHost: true });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    requests++;
    const delay = typeof options.delayMs === "function" ? options.delayMs(requests) : options.delayMs;
    if (delay) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(done, delay);
        waiting.add(done);
      });
    }
    const failure = queue.shift();
    if (failure) return new Response(failure.body ?? "", { status: failure.status, headers: failure.headers });
    const url = new URL(request.url);
    return await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: await request.arrayBuffer(),
      client,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    fail(...failures) {
      queue.push(...failures);
    },
    async close() {
      for (const done of [...waiting]) done(); // held answers go out now rather than delay the shutdown
      await server.shutdown();
      client.close();
    },
  };
}

/** A request as a front saw it: enough to send it again byte for byte. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly target: string;
  readonly headers: Headers;
  readonly body: Uint8Array<ArrayBuffer>;
}

/** Forwards every request to `target` (Host header kept, so signatures hold) and records it, like a snooping proxy. */
export function recordingFront(target: string): Front & { readonly recorded: readonly RecordedRequest[] } {
  const recorded: RecordedRequest[] = [];
  const client = Deno.createHttpClient({ allowHost: true });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const url = new URL(request.url);
    const body = new Uint8Array(await request.arrayBuffer());
    recorded.push({ method: request.method, target: `${url.pathname}${url.search}`, headers: request.headers, body });
    return await fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.method === "GET" || request.method === "HEAD" ? undefined : body,
      client,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    recorded,
    get requests() {
      return recorded.length;
    },
    async close() {
      await server.shutdown();
      client.close();
    },
  };
}

/** Accepts TCP connections and never says a word (a stuck server, or TLS that never handshakes). */
export function silentListener(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const conn of held) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    },
  };
}

async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array }> {
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(4096);
  while (true) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("closed before a request head");
    buffer = new Uint8Array([...buffer, ...chunk.subarray(0, n)]);
    const text = new TextDecoder().decode(buffer);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      return {
        head: text.slice(0, end + 4),
        rest: buffer.subarray(new TextEncoder().encode(text.slice(0, end + 4)).length),
      };
    }
  }
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  try {
    await from.readable.pipeTo(to.writable, { preventClose: false });
  } catch { /* either side closed */ }
}

/** An HTTP proxy: CONNECT tunnels for https, absolute-form forwarding for http. Records each target. */
export function httpProxy(): { url: string; targets: string[]; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const targets: string[] = [];
  const open: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const client of listener) {
        open.push(client);
        (async () => {
          const { head, rest } = await readHead(client);
          const [method, target] = head.split(" ");
          if (method === "CONNECT") {
            targets.push(`CONNECT ${target}`);
            const [hostname, port] = target.split(":");
            const upstream = await Deno.connect({ hostname, port: Number(port) });
            open.push(upstream);
            await client.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
            await Promise.all([pipe(client, upstream), pipe(upstream, client)]);
          } else {
            const url = new URL(target);
            targets.push(`${method} ${url.href}`);
            const upstream = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 80) });
            open.push(upstream);
            const rewritten = head.replace(target, url.pathname + url.search);
            await upstream.write(new Uint8Array([...new TextEncoder().encode(rewritten), ...rest]));
            await Promise.all([pipe(client, upstream), pipe(upstream, client)]);
          }
        })().catch(() => {});
      }
    } catch { /* closed */ }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    targets,
    close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    },
  };
}
