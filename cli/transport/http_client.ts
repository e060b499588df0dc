/**
 * A small HTTP/1.1 client for the calls certrole makes (CreateSession, the iam commands' AWS SDK
 * calls, the emulator's control plane in tests). Deno's fetch has no connect timeout; this client
 * bounds connecting (TCP, proxy CONNECT, TLS handshake) and the whole request, caps the response
 * size, and goes through HTTPS_PROXY / HTTP_PROXY (CONNECT for https) unless NO_PROXY matches.
 *
 * TLS trusts exactly: Deno's built-in Mozilla root store (always; Deno 2.9 has no per-connection
 * way to leave it out) plus the `caCerts` the caller passes, which certrole takes from
 * trust_store.ts: the system store as Go finds it (SSL_CERT_FILE, SSL_CERT_DIR honoured) and
 * AWS_CA_BUNDLE. Host names are always verified; there is no way to turn verification off.
 */

import { CertroleError, quoted } from "../errors.ts";

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
  /** A larger response is refused; default DEFAULT_MAX_RESPONSE_BYTES. */
  readonly maxResponseBytes?: number;
}

/** The request never got a complete HTTP response: refused, reset, timed out, bad TLS. */
export class TransportError extends Error {
  constructor(message: string, readonly retryable = true) {
    super(message);
    this.name = "TransportError";
  }
}

/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read the way curl and the AWS SDKs read them. A proxy
 * setting that is not an http:// URL is a user error (CertroleError), named with its variable.
 */
export function proxyFor(url: URL, env: (name: string) => string | undefined): URL | undefined {
  const names = url.protocol === "https:" ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"];
  const name = names.find((candidate) => env(candidate));
  const value = name && env(name);
  if (!name || !value) return undefined;
  const host = bareHost(url.hostname);
  const noProxy = (env("NO_PROXY") ?? env("no_proxy") ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  for (const entry of noProxy) {
    if (entry === "*") return undefined;
    const name = bareHost(entry.replace(/:\d+$/, "")).replace(/^\*?\./, "");
    if (host === name || host.endsWith("." + name)) return undefined;
  }
  let proxy: URL | undefined;
  try {
    proxy = new URL(value.includes("://") ? value : `http://${value}`);
  } catch { /* reported below */ }
  // https:// proxies are taken as plain HTTP proxies, as certrole always has.
  if (!proxy || !["http:", "https:"].includes(proxy.protocol) || !proxy.hostname) {
    throw new CertroleError(
      "InvalidProxy",
      `${name} ${
        quoted(redactedProxyUrl(value))
      } is not a proxy URL like http://proxy.example.com:3128: fix or unset ${name}`,
    );
  }
  return proxy;
}

/**
 * A proxy setting as it may appear in a message or --debug: its user name and password become
 * `***`, as the AWS CLI masks them. Works on text that is not a valid URL too (everything up to
 * the last "@" is credentials, since a password may hold unescaped "/" or "@").
 */
export function redactedProxyUrl(text: string): string {
  const at = text.lastIndexOf("@");
  if (at < 0) return text;
  const scheme = text.match(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//)?.[0] ?? "";
  return `${scheme}***:***${text.slice(at)}`;
}

function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

type Conn = Deno.Conn | Deno.TlsConn;

/** CreateSession answers are a few KB; IAM pages can be a few MB (aws_clients.ts raises it). */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

const seconds = (ms: number) => `${ms / 1000}s`;

/**
 * The deadlines of one request: the connect timeout for TCP, proxy CONNECT and TLS together, the
 * total one for everything up to the last byte of the response. When one passes, every
 * connection the request opened is closed (so no pending read, write or handshake outlives it)
 * and each await raced against `expired` fails with a message naming the step that was running.
 */
class Deadlines {
  /** What is in progress, for the timeout message. */
  step = "connecting";
  #open = new Set<Conn>();
  #failure: TransportError | undefined;
  #reject!: (error: TransportError) => void;
  readonly expired = new Promise<never>((_, reject) => this.#reject = reject);
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #totalTimer: ReturnType<typeof setTimeout>;

  constructor(connectTimeoutMs: number, totalTimeoutMs: number) {
    this.expired.catch(() => {});
    if (connectTimeoutMs < totalTimeoutMs) {
      this.#connectTimer = setTimeout(
        () => this.#expire(`${this.step} timed out after ${seconds(connectTimeoutMs)}`),
        connectTimeoutMs,
      );
    }
    this.#totalTimer = setTimeout(
      () => this.#expire(`${this.step} timed out after ${seconds(totalTimeoutMs)}`),
      totalTimeoutMs,
    );
  }

  #expire(message: string): void {
    this.#failure ??= new TransportError(message);
    this.#reject(this.#failure);
    this.end();
  }

  /** Waits for `work` unless a deadline passes first; errors after expiry are the timeout. */
  async race<T>(work: Promise<T>): Promise<T> {
    try {
      return await Promise.race([work, this.expired]);
    } catch (error) {
      throw this.#failure ?? error;
    }
  }

  /** Registers a connection, closed when a deadline passes (at once, if one has). */
  hold<T extends Conn>(conn: T): T {
    if (this.#failure) {
      close(conn);
      throw this.#failure;
    }
    this.#open.add(conn);
    return conn;
  }

  /** The connection is up: from here only the total deadline counts. */
  connected(): void {
    clearTimeout(this.#connectTimer);
  }

  end(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#totalTimer);
    for (const conn of this.#open) close(conn);
    this.#open.clear();
  }
}

function close(conn: Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** Deno.connect cannot be cancelled: a connection that arrives after the deadline is closed. */
async function openTcp(deadlines: Deadlines, hostname: string, port: number): Promise<Deno.TcpConn> {
  const connecting = Deno.connect({ hostname, port });
  connecting.then((conn) => deadlines.hold(conn), () => {}).catch(() => {});
  const tcp = deadlines.hold(await deadlines.race(connecting));
  // Without TCP_NODELAY the request waits behind the TLS Finished for the server's delayed
  // ACK: about 40 ms per HTTPS call (measured against the emulator, scripts/bench.ts).
  tcp.setNoDelay(true);
  return tcp;
}

async function startTls(
  deadlines: Deadlines,
  tcp: Deno.TcpConn,
  hostname: string,
  caCerts: string[] | undefined,
): Promise<Deno.TlsConn> {
  const tls = deadlines.hold(await deadlines.race(Deno.startTls(tcp, { hostname, caCerts })));
  await deadlines.race(tls.handshake());
  return tls;
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

async function connect(url: URL, options: TransportOptions, deadlines: Deadlines): Promise<Conn> {
  const hostname = bareHost(url.hostname);
  const port = defaultPort(url);
  const caCerts = options.caCerts ? [...options.caCerts] : undefined;
  const proxy = options.proxy;
  const target = proxy ? `proxy ${proxy.host}` : `${url.host}`;
  try {
    if (!proxy) {
      deadlines.step = `connecting to ${url.host}`;
      const tcp = await openTcp(deadlines, hostname, port);
      if (url.protocol !== "https:") return tcp;
      deadlines.step = `TLS handshake with ${url.host}`;
      return await startTls(deadlines, tcp, hostname, caCerts);
    }
    deadlines.step = `connecting to proxy ${proxy.host}`;
    const tcp = await openTcp(deadlines, bareHost(proxy.hostname), defaultPort(proxy));
    if (url.protocol !== "https:") return tcp;
    deadlines.step = `CONNECT to ${hostname}:${port} through proxy ${proxy.host}`;
    await deadlines.race(writeAll(
      tcp,
      new TextEncoder().encode(
        `CONNECT ${hostname}:${port} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${proxyAuthorization(proxy)}\r\n`,
      ),
    ));
    const head = await deadlines.race(readHead(tcp));
    const status = Number(head.split(" ")[1]);
    if (status !== 200) {
      throw new TransportError(`proxy ${proxy.host} refused CONNECT to ${hostname}:${port} (HTTP ${status})`, false);
    }
    deadlines.step = `TLS handshake with ${url.host}`;
    return await startTls(deadlines, tcp, hostname, caCerts);
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

/** Reads up to the blank line after a response head (for CONNECT answers; no byte past it is ours). */
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

/** Bytes received so far, in one buffer that doubles as needed (appending is amortised O(1)). */
class Received {
  bytes = new Uint8Array(16384);
  length = 0;

  constructor(readonly limit: number, readonly host: string) {}

  /** Room for at least `n` more bytes. */
  space(n: number): Uint8Array {
    if (this.length + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    return this.bytes.subarray(this.length, this.length + n);
  }

  added(n: number): void {
    this.length += n;
    if (this.length > this.limit) this.tooLarge();
  }

  tooLarge(): never {
    throw new TransportError(
      `the response from ${this.host} is larger than ${this.limit} bytes: is the endpoint really AWS?`,
      false,
    );
  }

  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** Where the blank line after the head starts, searching only from `from` (bytes before it were searched). */
function indexOfBlankLine(bytes: Uint8Array, from: number): number {
  for (let i = Math.max(0, from); i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

type Framing =
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" }
  | { readonly kind: "empty" }
  | { readonly kind: "until-close" };

function framing(status: number, headers: Headers): Framing {
  if ((headers.get("transfer-encoding") ?? "").toLowerCase().includes("chunked")) return { kind: "chunked" };
  const length = headers.get("content-length");
  if (length !== null) {
    if (!/^\d+$/.test(length.trim())) throw new TransportError(`malformed Content-Length "${length.slice(0, 20)}"`);
    return { kind: "length", length: Number(length) };
  }
  if (status === 204 || status === 304) return { kind: "empty" };
  return { kind: "until-close" };
}

/**
 * A chunked body, decoded as its chunks complete: each call resumes at the first incomplete
 * chunk, so the whole body costs linear time however it is split into reads.
 */
class ChunkedBody {
  #parts: Uint8Array[] = [];
  #offset = 0;

  decode(bytes: Uint8Array): Uint8Array | undefined {
    while (true) {
      let lineEnd = this.#offset;
      while (lineEnd + 1 < bytes.length && !(bytes[lineEnd] === 13 && bytes[lineEnd + 1] === 10)) lineEnd++;
      if (lineEnd + 1 >= bytes.length) return undefined;
      const sizeText = new TextDecoder().decode(bytes.subarray(this.#offset, lineEnd)).split(";")[0].trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new TransportError("malformed chunked response");
      const size = parseInt(sizeText, 16);
      const start = lineEnd + 2;
      if (size === 0) return concat(this.#parts);
      if (start + size + 2 > bytes.length) return undefined;
      this.#parts.push(bytes.slice(start, start + size));
      this.#offset = start + size + 2;
    }
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

/** Reads one whole response: linear in its size, at most `limit` bytes. */
async function readResponse(conn: Conn, deadlines: Deadlines, limit: number, host: string): Promise<HttpResponse> {
  const received = new Received(limit, host);
  let head: { status: number; headers: Headers; bodyStart: number; framing: Framing } | undefined;
  let searched = 0;
  const chunked = new ChunkedBody();
  while (true) {
    const n = await deadlines.race(conn.read(received.space(16384)));
    const ended = n === null;
    if (n !== null) received.added(n);
    const bytes = received.view();
    if (!head) {
      const headEnd = indexOfBlankLine(bytes, searched - 3);
      searched = bytes.length;
      if (headEnd < 0) {
        if (ended) throw new TransportError("the connection closed before a response arrived");
        continue;
      }
      const { status, headers } = parseHead(bytes, headEnd);
      head = { status, headers, bodyStart: headEnd + 4, framing: framing(status, headers) };
      if (head.framing.kind === "length" && head.bodyStart + head.framing.length > limit) {
        received.tooLarge();
      }
    }
    const rest = bytes.subarray(head.bodyStart);
    let body: Uint8Array | undefined;
    switch (head.framing.kind) {
      case "length":
        if (rest.length >= head.framing.length) body = rest.slice(0, head.framing.length);
        break;
      case "chunked":
        body = chunked.decode(rest);
        break;
      case "empty":
        body = new Uint8Array(0);
        break;
      case "until-close":
        if (ended) body = rest.slice();
    }
    if (body) return { status: head.status, headers: head.headers, body };
    if (ended) throw new TransportError("the connection closed in the middle of the response");
  }
}

/**
 * Sends one request on a fresh connection (Connection: close) and reads the whole response,
 * all of it (connect, proxy CONNECT, TLS handshake, request, response) within
 * `totalTimeoutMs`, and the connecting part within `connectTimeoutMs`.
 */
export async function send(request: HttpRequest, options: TransportOptions): Promise<HttpResponse> {
  const deadlines = new Deadlines(options.connectTimeoutMs, options.totalTimeoutMs);
  try {
    const conn = await connect(request.url, options, deadlines);
    deadlines.connected();
    deadlines.step = `request to ${request.url.host}`;
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
    await deadlines.race(writeAll(conn, concat([new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"), body])));
    return await readResponse(
      conn,
      deadlines,
      options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      request.url.host,
    );
  } catch (error) {
    if (error instanceof TransportError) throw error;
    throw new TransportError(
      `request to ${request.url.host} failed (${error instanceof Error ? error.message.split("\n")[0] : error})`,
    );
  } finally {
    deadlines.end();
  }
}
