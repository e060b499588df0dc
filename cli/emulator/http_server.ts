/**
 * The emulator's listener. Deno.serve has no header-read or idle timeout, no header size option
 * and no connection cap (measured: 200 half-open connections stayed open for minutes), so the
 * emulator listens with node:http / node:https, which Deno implements with all four, and adapts
 * each request to a fetch-style handler (web Request in, Response out). What the HTTP layer
 * refuses before the handler sees a request (an oversized header section, a header that does
 * not arrive in time, a malformed request) is answered through `reject`, so it too can be in
 * the calling service's format.
 */
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { Readable } from "node:stream";

export interface HttpLimits {
  /** The request line and headers together, in bytes (llhttp refuses more before parsing them). */
  readonly maxHeaderBytes: number;
  /** From a connection's first byte (or its previous answer) to the end of the request's headers. */
  readonly headersTimeoutMs: number;
  /** To receive a whole request, body included. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  readonly idleTimeoutMs: number;
  /** Open connections at once; more are closed as they arrive. */
  readonly maxConnections: number;
}

/**
 * AWS documents 10,240 bytes for API Gateway's request line and headers and 8 KB for S3's PUT
 * headers; the emulator takes 32 KiB, enough for a leaf and several RSA-4096 intermediates in
 * X-Amz-X509-Chain. The timeouts follow Node's own defaults in spirit (headers 60 s there) but
 * shorter, since every client here is local; the idle timeout is an Elastic Load Balancer's
 * default (60 s). 512 connections leave room for the 200-client benchmark.
 */
export const DEFAULT_LIMITS: HttpLimits = {
  maxHeaderBytes: 32 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxConnections: 512,
};

/** Why the HTTP layer refused a request before the handler saw it. */
export type Rejection = "header-too-large" | "timeout" | "malformed";

export interface ClientAddress {
  readonly transport: "tcp";
  readonly hostname: string;
  readonly port: number;
}

/** What a handler learns about the connection (the shape of Deno.serve's ServeHandlerInfo it uses). */
export interface HandlerInfo {
  readonly remoteAddr: ClientAddress;
}

export type FetchHandler = (request: Request, info: HandlerInfo) => Promise<Response>;

export interface HttpServer {
  readonly hostname: string;
  readonly port: number;
  /** Stops listening, closes every connection, waits for handlers in flight. */
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly hostname: string;
  readonly port: number;
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly limits: HttpLimits;
  /** The answer to a request refused before it reached the handler; `head` is what arrived of it. */
  readonly reject: (rejection: Rejection, head: string) => Response;
}

/** A Response as HTTP/1.1 bytes, for a socket the HTTP layer has given up on (Connection: close). */
async function wire(response: Response): Promise<Uint8Array> {
  const body = new Uint8Array(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? ""}`];
  for (const [name, value] of response.headers) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${body.length}`, "connection: close", "", "");
  const head = new TextEncoder().encode(lines.join("\r\n"));
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return bytes;
}

type ClientError = Error & { code?: string; rawPacket?: Uint8Array };

function rejectionOf(error: ClientError): Rejection {
  if (error.code === "HPE_HEADER_OVERFLOW") return "header-too-large";
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return "timeout";
  return "malformed";
}

export function listen(options: ListenOptions, handler: FetchHandler): Promise<HttpServer> {
  const { limits } = options;
  const serverOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    // How often Node looks for connections past headersTimeout / requestTimeout (default 30 s).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 4)),
  };
  const scheme = options.tls ? "https" : "http";
  const inFlight = new Set<Promise<void>>();

  const onRequest = (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => {
    const done = serve(incoming, outgoing).catch(() => {
      outgoing.destroy(); // the handler renders its own errors: this is a broken connection
    });
    inFlight.add(done);
    done.finally(() => inFlight.delete(done));
  };

  const serve = async (incoming: http.IncomingMessage, outgoing: http.ServerResponse) => {
    const headers = new Headers();
    for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) {
      headers.append(incoming.rawHeaders[i], incoming.rawHeaders[i + 1]);
    }
    const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
    let url: URL;
    try {
      url = new URL(incoming.url ?? "/", `${scheme}://${headers.get("host") ?? options.hostname}`);
    } catch {
      await write(outgoing, options.reject("malformed", `${incoming.method} ${incoming.url}`), true);
      return;
    }
    const request = new Request(url, {
      method: incoming.method,
      headers,
      // The handler reads what it needs and stops; what it leaves unread stays in the socket.
      body: hasBody ? Readable.toWeb(incoming) as ReadableStream<Uint8Array> : undefined,
    });
    const socket = incoming.socket as Socket;
    const response = await handler(request, {
      remoteAddr: { transport: "tcp", hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
    });
    // A body the handler did not read to the end (refused as too large): close rather than drain it.
    await write(outgoing, response, hasBody && !incoming.readableEnded);
  };

  const write = async (outgoing: http.ServerResponse, response: Response, close: boolean) => {
    const body = new Uint8Array(await response.arrayBuffer());
    const head: Record<string, string | string[]> = {};
    for (const [name, value] of response.headers) head[name] = value;
    if (close) head.connection = "close";
    outgoing.writeHead(response.status, head);
    await new Promise<void>((resolve) => outgoing.end(body, () => resolve()));
    if (close) outgoing.socket?.destroySoon?.();
  };

  const server = options.tls
    ? https.createServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, onRequest)
    : http.createServer(serverOptions, onRequest);
  server.maxConnections = limits.maxConnections;
  server.on("clientError", (error: ClientError, socket: Socket) => {
    if (!socket.writable || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const raw = error.rawPacket;
    const head = raw ? new TextDecoder().decode(raw.subarray(0, limits.maxHeaderBytes)) : "";
    wire(options.reject(rejectionOf(error), head)).then(
      (bytes) => socket.end(bytes),
      () => socket.destroy(),
    );
  });

  return new Promise((resolve, reject) => {
    server.once("error", (error: ClientError) => {
      // Deno's own error class, which callers already tell apart from other start failures.
      reject(error.code === "EADDRINUSE" ? new Deno.errors.AddrInUse(error.message) : error);
    });
    server.listen(options.port, options.hostname, () => {
      server.removeAllListeners("error");
      const address = server.address() as { address: string; port: number };
      resolve({
        hostname: address.address,
        port: address.port,
        async close() {
          // Like Deno.serve's shutdown: no new connections, idle ones closed, requests in
          // flight answered, then whatever is left closed.
          const closed = new Promise<void>((done) => server.close(() => done()));
          server.closeIdleConnections();
          await Promise.allSettled([...inFlight]);
          server.closeAllConnections();
          await closed;
        },
      });
    });
  });
}
