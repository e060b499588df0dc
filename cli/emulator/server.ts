/**
 * The emulator's HTTP server: one endpoint for every AWS service it speaks. A request is routed
 * by its signature: SigV4-X509 goes to CreateSession; SigV4 (HMAC) is verified against the
 * administrator keys or issued session credentials, then dispatched on the credential scope's
 * service. Every failure is answered in the calling service's own error format.
 */
import { createSession } from "./create_session.ts";
import { Fault, type Protocol, renderFault } from "./fault.ts";
import { parseAuthorization, type ParsedAuthorization, type ReceivedRequest } from "./sigv4_verify.ts";
import { emptyState, type EmulatorState, loadState, saveState } from "./state.ts";

export interface EmulatorOptions {
  readonly hostname?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly accountId?: string;
  readonly region?: string;
  /** Persist state here (atomically, after each change) and reload it at start. */
  readonly stateDir?: string;
  readonly now?: () => Date;
  /** PEM certificate chain and key: serve HTTPS. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface Emulator {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly state: EmulatorState;
  close(): Promise<void>;
}

/** What a service handler sees. */
export interface ServiceContext {
  readonly state: EmulatorState;
  readonly now: Date;
  readonly requestId: string;
  /** Called after a change so --state DIR stays current. */
  readonly changed: () => Promise<void>;
}

export type Handler = (
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  context: ServiceContext,
) => Promise<Response>;

/** The error format a request expects, judged from its scope's service or path. */
function protocolOf(service: string | undefined, url: URL): Protocol {
  if (service === "iam") return "iam-query";
  if (service === "ec2") return "ec2-query";
  if (service === "s3") return "s3-xml";
  if (service === "rolesanywhere" || url.pathname.startsWith("/sessions")) return "rest-json";
  return "rest-json";
}

function json(status: number, body: unknown, requestId: string): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "x-amzn-requestid": requestId },
  });
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const state = (options.stateDir && await loadState(options.stateDir)) || emptyState(accountId, region);
  const now = options.now ?? (() => new Date());
  let saving = Promise.resolve();
  const changed = () => {
    if (!options.stateDir) return Promise.resolve();
    saving = saving.then(() => saveState(options.stateDir!, state));
    return saving;
  };

  const handler = async (incoming: Request): Promise<Response> => {
    const requestId = crypto.randomUUID();
    const url = new URL(incoming.url);
    let auth: ParsedAuthorization | undefined;
    try {
      const request: ReceivedRequest = {
        method: incoming.method,
        url,
        headers: incoming.headers,
        body: new Uint8Array(await incoming.arrayBuffer()),
      };
      auth = parseAuthorization(incoming.headers.get("authorization"));
      if (!auth) {
        throw new Fault(
          403,
          "MissingAuthenticationTokenException",
          "Missing or malformed Authorization header (SigV4 or SigV4-X509 expected)",
        );
      }
      const context: ServiceContext = { state, now: now(), requestId, changed };
      if (auth.algorithm.startsWith("AWS4-X509-")) {
        if (incoming.method !== "POST" || url.pathname !== "/sessions") {
          throw new Fault(
            404,
            "ResourceNotFoundException",
            `${incoming.method} ${url.pathname} is not an operation (CreateSession is POST /sessions)`,
          );
        }
        const { session, body } = await createSession(request, auth, context);
        state.sessions[session.accessKeyId] = session;
        state.sessionsIssued++;
        await changed();
        return json(201, body, requestId);
      }
      throw new Fault(400, "UnsupportedOperation", `service ${auth.service} is not emulated`);
    } catch (error) {
      const fault = error instanceof Fault
        ? error
        : new Fault(500, "InternalFailure", `emulator error: ${error instanceof Error ? error.message : error}`);
      if (!(error instanceof Fault)) console.error(error);
      return renderFault(fault, protocolOf(auth?.service, url), requestId);
    }
  };

  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    onListen: (address) => resolve(address as Deno.NetAddr),
    ...(options.tls ?? {}),
  }, handler);
  const address = await listening;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  const scheme = options.tls ? "https" : "http";
  return {
    url: `${scheme}://${options.tls && host === "127.0.0.1" ? "localhost" : host}:${address.port}`,
    state,
    async close() {
      await server.shutdown();
      await saving;
    },
  };
}
