/**
 * The HTTP(S) listener certrole's servers share (the emulator and the credential server of `serve`
 * and `exec --supervise`), with the limits that keep a client from holding them: header size,
 * TLS handshake, header-read, request and idle timeouts, a connection cap, and a body limit.
 * Deno.serve has none of the timeouts, no header size option and no connection cap (measured: 200
 * half-open connections stayed open for minutes), so this listens with node:http / node:https,
 * which Deno implements with them, and adapts each request to a fetch-style handler (web Request
 * in, Response out). What the HTTP layer refuses before the handler sees a request (an oversized
 * header section or declared body, a header that does not arrive in time, a malformed request) is
 * answered through `reject`, so it too can be in the server's own error format.
 */
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";

export interface HttpLimits {
  /** The request line and headers together, in bytes (llhttp refuses more before parsing them). */
  readonly maxHeaderBytes: number;
  /**
   * From a connection's first byte (or its previous answer) to the end of the request's headers;
   * over TLS, also the handshake's limit (node:http's own timeouts start only after it).
   */
  readonly headersTimeoutMs: number;
  /** To receive a whole request, body included. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  readonly idleTimeoutMs: number;
  /** Open connections at once, TLS ones still in their handshake included; more are closed as they arrive. */
  readonly maxConnections: number;
  /**
   * A request body's bytes (also bounding its reads: see BYTES_PER_READ). The listener reads the
   * body before the handler runs; a larger one is refused through `reject` without reaching it.
   */
  readonly maxBodyBytes: number;
}

/**
 * Node's own defaults in spirit (headers 60 s there) but shorter, since a client that needs more
 * than 10 s to send a few hundred bytes of headers is holding the connection, not using it; the
 * idle timeout is an Elastic Load Balancer's default (60 s). Node's 16 KiB header limit; servers
 * that take larger headers say why.
 */
export const DEFAULT_LIMITS: HttpLimits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxConnections: 512,
  maxBodyBytes: 1 << 20,
};

/** Why the HTTP layer refused a request before the handler saw it. */
export type Rejection = "header-too-large" | "body-too-large" | "timeout" | "malformed";

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

/** A PEM certificate chain and its unencrypted key. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
}

export interface HttpServer {
  readonly hostname: string;
  readonly port: number;
  /**
   * New connections use this certificate and key; open ones keep theirs. The pair is not checked
   * here (node:tls takes garbage and fails each handshake): check it first.
   */
  replaceTls(tls: TlsCredentials): void;
  /** Stops listening, answers the requests in flight, then closes every connection left. */
  close(): Promise<void>;
}

export interface ListenOptions {
  readonly hostname: string;
  readonly port: number;
  readonly tls?: TlsCredentials;
  readonly limits: HttpLimits;
  /**
   * The answer to a request refused before it reached the handler; `headers` are those of it
   * that arrived (as far as they parse, for a request the HTTP parser gave up on).
   */
  readonly reject: (rejection: Rejection, headers: Headers) => Response;
}

/**
 * A body may arrive in at most one read per this many bytes of the limit (16,384 reads for 1 MiB):
 * far more than any client's TCP segments or chunks need, and it bounds what a body sent as
 * one-byte chunks costs (each read is a chunk's framing on the wire and a buffer object here).
 */
const BYTES_PER_READ = 64;

/**
 * The whole body, or "too-large" when its declared Content-Length is over the limit (nothing is
 * read) or once what arrived passes the limit or took more reads than
 * `maxBodyBytes / BYTES_PER_READ`, or "aborted" when the connection ended first. Each read is
 * copied into one buffer (preallocated for a declared length, never larger than the limit) as it
 * is emitted and then dropped: holding the reads themselves, in a stream's queue or a list, cost
 * ~400-800 bytes of memory each (one-byte chunks made a 1 MiB body cost 700 MB).
 */
function collectBody(
  incoming: http.IncomingMessage,
  limits: HttpLimits,
): Promise<Uint8Array<ArrayBuffer> | "too-large" | "aborted"> {
  const maxBytes = limits.maxBodyBytes;
  const maxReads = Math.max(64, Math.ceil(maxBytes / BYTES_PER_READ));
  const declared = Number(incoming.headers["content-length"] ?? 0);
  if (declared > maxBytes) return Promise.resolve("too-large");
  let body = new Uint8Array(declared > 0 ? declared : Math.min(maxBytes, 16 * 1024));
  let size = 0;
  let reads = 0;
  return new Promise((resolve) => {
    const finish = (result: Uint8Array<ArrayBuffer> | "too-large" | "aborted") => {
      incoming.removeAllListeners("data");
      resolve(result);
    };
    incoming.on("data", (chunk: Uint8Array) => {
      if (size + chunk.length > maxBytes || ++reads > maxReads) {
        incoming.pause(); // nothing more is parsed into memory; the connection closes after the answer
        finish("too-large");
        return;
      }
      if (size + chunk.length > body.length) {
        const grown = new Uint8Array(Math.min(maxBytes, Math.max(body.length * 2, size + chunk.length)));
        grown.set(body.subarray(0, size));
        body = grown;
      }
      body.set(chunk, size);
      size += chunk.length;
    });
    incoming.once("end", () => finish(body.length === size ? body : body.slice(0, size)));
    incoming.once("error", () => finish("aborted"));
    incoming.once("aborted", () => finish("aborted"));
  });
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

/**
 * The header lines of what arrived of a request node:http's parser refused (its first
 * `maxBytes`): every line after the request line with a name before a colon, as far as they are
 * valid header names and values.
 */
function packetHeaders(raw: Uint8Array | undefined, maxBytes: number): Headers {
  const headers = new Headers();
  if (!raw) return headers;
  for (const line of new TextDecoder().decode(raw.subarray(0, maxBytes)).split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch { /* not a header */ }
  }
  return headers;
}

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
  // Every TCP connection, from accept to close: node:http's closeAllConnections knows only those
  // that reached HTTP, not TLS ones still in (or stuck before) their handshake.
  const sockets = new Set<Socket>();

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
    let url: URL;
    try {
      url = new URL(incoming.url ?? "/", `${scheme}://${headers.get("host") ?? options.hostname}`);
    } catch {
      await write(outgoing, options.reject("malformed", headers), true);
      return;
    }
    let body: Uint8Array<ArrayBuffer> | undefined;
    if (incoming.method !== "GET" && incoming.method !== "HEAD") {
      const received = await collectBody(incoming, limits);
      if (received === "aborted") {
        outgoing.destroy();
        return;
      }
      // Refused before the handler runs; the rest of the body is not read: the connection closes.
      if (received === "too-large") {
        await write(outgoing, options.reject("body-too-large", headers), true);
        return;
      }
      body = received;
    }
    const request = new Request(url, { method: incoming.method, headers, body });
    const socket = incoming.socket as Socket;
    const response = await handler(request, {
      remoteAddr: { transport: "tcp", hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
    });
    await write(outgoing, response, false);
  };

  const write = async (outgoing: http.ServerResponse, response: Response, close: boolean) => {
    const body = new Uint8Array(await response.arrayBuffer());
    const head: Record<string, string | string[]> = {};
    for (const [name, value] of response.headers) head[name] = value;
    if (close) head.connection = "close";
    // The whole body is at hand: its length rather than chunked framing (a HEAD answer's own
    // content-length describes the body it does not carry, so it is left as the handler set it).
    if (!("content-length" in head) && outgoing.req?.method !== "HEAD") head["content-length"] = String(body.length);
    outgoing.writeHead(response.status, head);
    // A connection the client closed meanwhile never calls end's callback.
    await new Promise<void>((resolve) => {
      outgoing.once("close", resolve);
      outgoing.end(body, () => resolve());
    });
    if (close) outgoing.socket?.destroySoon?.();
  };

  const server = options.tls
    ? https.createServer({
      ...serverOptions,
      cert: options.tls.cert,
      key: options.tls.key,
      // A connection that never finishes its handshake is never seen by node:http's timeouts.
      handshakeTimeout: limits.headersTimeoutMs,
    }, onRequest)
    : http.createServer(serverOptions, onRequest);
  server.maxConnections = limits.maxConnections;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  // A handshake that failed or timed out: nothing HTTP can be said on it.
  server.on("tlsClientError", (_error: Error, socket: Socket) => socket.destroy());
  server.on("clientError", (error: ClientError, socket: Socket) => {
    if (!socket.writable || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    wire(options.reject(rejectionOf(error), packetHeaders(error.rawPacket, limits.maxHeaderBytes))).then(
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
        replaceTls(tls) {
          (server as https.Server).setSecureContext({ cert: tls.cert, key: tls.key });
        },
        async close() {
          // Like Deno.serve's shutdown: no new connections, idle ones closed, requests in
          // flight answered, then whatever is left closed.
          const closed = new Promise<void>((done) => server.close(() => done()));
          server.closeIdleConnections();
          await Promise.allSettled([...inFlight]);
          server.closeAllConnections();
          for (const socket of sockets) socket.destroy();
          await closed;
        },
      });
    });
  });
}
