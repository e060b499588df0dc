/**
 * The emulator's HTTP server: one endpoint for every AWS service it speaks. A request is routed
 * by its signature: SigV4-X509 goes to CreateSession; SigV4 (HMAC) is verified against the
 * administrator keys or issued session credentials, then dispatched on the credential scope's
 * service. Every failure is answered in the calling service's own error format.
 */
import { authenticate, type Caller } from "./caller.ts";
import { createSession } from "./create_session.ts";
import { handleEc2 } from "./ec2_api.ts";
import { Fault, type Protocol, renderFault } from "./fault.ts";
import { handleS3 } from "./s3_api.ts";
import { handleSts } from "./sts_api.ts";
import { parseAuthorization, type ParsedAuthorization, type ReceivedRequest } from "./sigv4_verify.ts";
import {
  type AdminKey,
  emptyState,
  type EmulatorState,
  loadState,
  randomId,
  randomSecret,
  saveState,
} from "./state.ts";

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
  /** Administrator access key for the control plane; generated when absent. */
  readonly admin?: AdminKey;
}

export interface Emulator {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly state: EmulatorState;
  readonly admin: AdminKey;
  close(): Promise<void>;
}

/** What a service handler sees. */
export interface ServiceContext {
  readonly state: EmulatorState;
  readonly now: Date;
  readonly requestId: string;
  readonly caller: Caller;
}

type Handler = (request: ReceivedRequest, context: ServiceContext) => Response | Promise<Response>;

/** The services spoken with access keys, by SigV4 scope service name. */
const SERVICES: Record<string, { readonly protocol: Protocol; readonly handle: Handler }> = {
  s3: { protocol: "s3-xml", handle: (r, c) => handleS3(r, c.caller, c.state, c.now, c.requestId) },
  ec2: { protocol: "ec2-query", handle: (r, c) => handleEc2(r, c.caller, c.state, c.requestId) },
  sts: { protocol: "iam-query", handle: (r, c) => handleSts(r, c.caller, c.state, c.requestId) },
};

/** The error format a request expects, judged from its scope's service or path. */
function protocolOf(service: string | undefined): Protocol {
  return (service && SERVICES[service]?.protocol) || "rest-json";
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
  const admin = options.admin ?? { accessKeyId: `AKIA${randomId(16)}`, secretAccessKey: randomSecret(30) };
  state.admins[admin.accessKeyId] = admin;
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
      const at = now();
      if (auth.algorithm.startsWith("AWS4-X509-")) {
        if (incoming.method !== "POST" || url.pathname !== "/sessions") {
          throw new Fault(
            404,
            "ResourceNotFoundException",
            `${incoming.method} ${url.pathname} is not an operation (CreateSession is POST /sessions)`,
          );
        }
        const { session, body } = await createSession(request, auth, { state, now: at });
        state.sessions[session.accessKeyId] = session;
        state.sessionsIssued++;
        await changed();
        return json(201, body, requestId);
      }
      const service = SERVICES[auth.service];
      if (!service) throw new Fault(400, "UnsupportedOperation", `service ${auth.service} is not emulated`);
      const caller = await authenticate(request, auth, state, at);
      const response = await service.handle(request, { state, now: at, requestId, caller });
      if (incoming.method !== "GET" && incoming.method !== "HEAD" && response.ok) await changed();
      return response;
    } catch (error) {
      const fault = error instanceof Fault
        ? error
        : new Fault(500, "InternalFailure", `emulator error: ${error instanceof Error ? error.message : error}`);
      if (!(error instanceof Fault)) console.error(error);
      return renderFault(fault, protocolOf(auth?.service), requestId);
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
    admin,
    async close() {
      await server.shutdown();
      await saving;
    },
  };
}
