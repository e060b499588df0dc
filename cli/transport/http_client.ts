/**
 * A small HTTP/1.1 client for the calls certrole makes (CreateSession, the emulator's control
 * plane in tests). Deno's fetch has no connect timeout; this client has both a connect timeout
 * and a total deadline, verifies TLS against the system roots plus AWS_CA_BUNDLE, and goes
 * through HTTPS_PROXY / HTTP_PROXY (CONNECT for https) unless NO_PROXY matches.
 */

export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  /** Sent as given; a Host header here wins over the URL's. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

export interface TransportOptions {
  /** Extra trusted roots (PEM), e.g. from AWS_CA_BUNDLE. */
  readonly caCerts?: readonly string[];
  readonly connectTimeoutMs: number;
  readonly totalTimeoutMs: number;
  /** Proxy URL to use for this request's scheme, or undefined for a direct connection. */
  readonly proxy?: URL;
}

/** The request never got a complete HTTP response: refused, reset, timed out, bad TLS. */
export class TransportError extends Error {
  constructor(message: string, readonly retryable = true) {
    super(message);
    this.name = "TransportError";
  }
}

/** HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read the way curl and the AWS SDKs read them. */
export function proxyFor(url: URL, env: (name: string) => string | undefined): URL | undefined {
  const value = url.protocol === "https:"
    ? env("HTTPS_PROXY") ?? env("https_proxy")
    : env("HTTP_PROXY") ?? env("http_proxy");
  if (!value) return undefined;
  const host = bareHost(url.hostname);
  const noProxy = (env("NO_PROXY") ?? env("no_proxy") ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  for (const entry of noProxy) {
    if (entry === "*") return undefined;
    const name = bareHost(entry.replace(/:\d+$/, "")).replace(/^\*?\./, "");
    if (host === name || host.endsWith("." + name)) return undefined;
  }
  try {
    return new URL(value.includes("://") ? value : `http://${value}`);
  } catch {
    throw new TransportError(`proxy setting "${value}" is not a URL`, false);
  }
}

function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

type Conn = Deno.Conn | Deno.TlsConn;

async function withTimeout<T extends Conn>(connecting: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TransportError(`${what} timed out after ${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([connecting, timeout]);
  } catch (error) {
    // A connection that completes after we gave up must not leak.
    connecting.then((conn) => conn.close(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function describeConnectError(error: unknown, target: string): TransportError {
  if (error instanceof TransportError) return error;
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  if (error instanceof Deno.errors.ConnectionRefused) return new TransportError(`connection to ${target} refused`);
  if (/certificate|tls|handshake|UnknownIssuer/i.test(message)) {
    return new TransportError(
      `TLS verification of ${target} failed (${message}): set AWS_CA_BUNDLE to the CA that signed its certificate`,
      false,
    );
  }
  return new TransportError(`cannot connect to ${target} (${message})`);
}

async function connect(url: URL, options: TransportOptions): Promise<Conn> {
  const hostname = bareHost(url.hostname);
  const port = defaultPort(url);
  const caCerts = options.caCerts ? [...options.caCerts] : undefined;
  const proxy = options.proxy;
  const target = proxy ? `proxy ${proxy.host}` : `${url.host}`;
  try {
    if (!proxy) {
      const tcp = await withTimeout(
        Deno.connect({ hostname, port }),
        options.connectTimeoutMs,
        `connecting to ${target}`,
      );
      // Without TCP_NODELAY the request waits behind the TLS Finished for the server's delayed
      // ACK: about 40 ms per HTTPS call (measured against the emulator, scripts/bench.ts).
      tcp.setNoDelay(true);
      if (url.protocol !== "https:") return tcp;
      const tls = await Deno.startTls(tcp, { hostname, caCerts });
      await withTimeout(tls.handshake().then(() => tls), options.connectTimeoutMs, `TLS handshake with ${target}`);
      return tls;
    }
    const tcp = await withTimeout(
      Deno.connect({ hostname: bareHost(proxy.hostname), port: defaultPort(proxy) }),
      options.connectTimeoutMs,
      `connecting to ${target}`,
    );
    tcp.setNoDelay(true);
    if (url.protocol !== "https:") return tcp;
    await writeAll(
      tcp,
      new TextEncoder().encode(
        `CONNECT ${hostname}:${port} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${proxyAuthorization(proxy)}\r\n`,
      ),
    );
    const head = await readHead(tcp);
    const status = Number(head.split(" ")[1]);
    if (status !== 200) {
      tcp.close();
      throw new TransportError(`proxy ${proxy.host} refused CONNECT to ${hostname}:${port} (HTTP ${status})`, false);
    }
    const tls = await Deno.startTls(tcp, { hostname, caCerts });
    await withTimeout(tls.handshake().then(() => tls), options.connectTimeoutMs, `TLS handshake with ${url.host}`);
    return tls;
  } catch (error) {
    throw describeConnectError(error, target);
  }
}

function proxyAuthorization(proxy: URL): string {
  if (!proxy.username) return "";
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Proxy-Authorization: Basic ${new TextEncoder().encode(credentials).toBase64()}\r\n`;
}

async function writeAll(conn: Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Reads up to the blank line after a response head (for CONNECT answers). */
async function readHead(conn: Conn): Promise<string> {
  const buffer = new Uint8Array(1);
  let text = "";
  while (!text.endsWith("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new TransportError("proxy closed the connection");
    text += String.fromCharCode(buffer[0]);
    if (text.length > 16384) throw new TransportError("proxy response head too large");
  }
  return text;
}

function parseHead(raw: Uint8Array, headEnd: number): { status: number; headers: Headers } {
  const head = new TextDecoder().decode(raw.subarray(0, headEnd)).split("\r\n");
  const status = Number(head[0].match(/^HTTP\/1\.[01] (\d{3})/)?.[1]);
  if (!status) throw new TransportError(`malformed HTTP response "${head[0].slice(0, 60)}"`);
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status, headers };
}

/** The response once its body is complete; undefined while more bytes are needed. */
function completeResponse(raw: Uint8Array, ended: boolean): HttpResponse | undefined {
  const headEnd = indexOfBlankLine(raw);
  if (headEnd < 0) {
    if (ended) throw new TransportError("the connection closed before a response arrived");
    return undefined;
  }
  const { status, headers } = parseHead(raw, headEnd);
  const rest = raw.subarray(headEnd + 4);
  let body: Uint8Array | undefined;
  const length = headers.get("content-length");
  if ((headers.get("transfer-encoding") ?? "").toLowerCase().includes("chunked")) {
    body = decodeChunked(rest);
  } else if (length !== null) {
    body = rest.length >= Number(length) ? rest.subarray(0, Number(length)) : undefined;
  } else if (status === 204 || status === 304) {
    body = new Uint8Array(0);
  } else if (ended) {
    body = rest; // no length: the body runs to the end of the stream
  }
  if (!body && ended) throw new TransportError("the connection closed in the middle of the response");
  return body && { status, headers, body };
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

function decodeChunked(bytes: Uint8Array): Uint8Array | undefined {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (true) {
    let lineEnd = offset;
    while (lineEnd + 1 < bytes.length && !(bytes[lineEnd] === 13 && bytes[lineEnd + 1] === 10)) lineEnd++;
    if (lineEnd + 1 >= bytes.length) return undefined;
    const size = parseInt(new TextDecoder().decode(bytes.subarray(offset, lineEnd)).split(";")[0], 16);
    if (Number.isNaN(size)) throw new TransportError("malformed chunked response");
    const start = lineEnd + 2;
    if (size === 0) return concat(out);
    if (start + size + 2 > bytes.length) return undefined;
    out.push(bytes.subarray(start, start + size));
    offset = start + size + 2;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Sends one request on a fresh connection (Connection: close) and reads the whole response. */
export async function send(request: HttpRequest, options: TransportOptions): Promise<HttpResponse> {
  const deadline = Date.now() + options.totalTimeoutMs;
  const conn = await connect(request.url, {
    ...options,
    connectTimeoutMs: Math.min(options.connectTimeoutMs, options.totalTimeoutMs),
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  }, Math.max(0, deadline - Date.now()));
  try {
    const body = typeof request.body === "string"
      ? new TextEncoder().encode(request.body)
      : request.body ?? new Uint8Array(0);
    const viaPlainProxy = options.proxy && request.url.protocol === "http:";
    const target = viaPlainProxy ? request.url.href : request.url.pathname + request.url.search;
    const headers: Record<string, string> = { Host: request.url.host, ...request.headers };
    const lines = [`${request.method} ${target} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-length")) {
      lines.push(`Content-Length: ${body.length}`);
    }
    lines.push("Connection: close");
    if (viaPlainProxy) {
      const auth = proxyAuthorization(options.proxy!);
      if (auth) lines.push(auth.trimEnd());
    }
    await writeAll(conn, concat([new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"), body]));
    const chunks: Uint8Array[] = [];
    const buffer = new Uint8Array(16384);
    while (true) {
      const n = await conn.read(buffer);
      if (n !== null) chunks.push(buffer.slice(0, n));
      const response = completeResponse(concat(chunks), n === null);
      if (response) return response;
    }
  } catch (error) {
    if (timedOut) {
      throw new TransportError(`request to ${request.url.host} timed out after ${options.totalTimeoutMs / 1000}s`);
    }
    if (error instanceof TransportError) throw error;
    throw new TransportError(
      `request to ${request.url.host} failed (${error instanceof Error ? error.message.split("\n")[0] : error})`,
    );
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the deadline */ }
  }
}
