/**
 * A running credential server: the identity checked, the first credentials fetched (a failure
 * stops start-up with its one-line reason), the listener up, background refresh and rotation
 * watching on. `serve` and `exec --supervise` both run one. `close()` stops accepting, lets
 * in-flight answers finish and ends the timers.
 */
import type { CredentialKeeper, Held } from "../credentials/credential_keeper.ts";
import { ROTATION_POLL_MS, startCredentialSupply } from "../credentials/credential_supply.ts";
import type { IdentityLabel } from "../credentials/identity_source.ts";
import type { Environment } from "../credentials/obtain.ts";
import { CertroleError, fail, messageOf } from "../errors.ts";
import type { SessionSettings } from "../session_settings.ts";
import type { AuthorizationToken } from "./authorization_token.ts";
import { answer, jsonError } from "./credential_endpoints.ts";
import { ImdsSessions } from "./imds_session.ts";
import type { ListenAddress } from "./listen_address.ts";
import { checkTlsPair, readTlsPair, type TlsPair } from "./tls_pair.ts";
import {
  DEFAULT_LIMITS,
  type HttpLimits,
  type HttpServer,
  listen,
  type Rejection,
} from "../transport/http_listener.ts";

/**
 * The shared listener's limits (header and idle timeouts, a connection cap, 16 KiB of headers);
 * no route reads a body (the IMDS token PUT has none), so 16 KiB of it is already generous.
 */
const SERVE_LIMITS: HttpLimits = { ...DEFAULT_LIMITS, maxBodyBytes: 16 * 1024 };

/** What the listener refused before a route saw it, as the JSON errors every route answers. */
function refusal(reason: Rejection): Response {
  const [status, code, message] = reason === "header-too-large"
    ? [431, "RequestHeaderFieldsTooLarge", "the request's headers are too large"]
    : reason === "body-too-large"
    ? [413, "RequestEntityTooLarge", "the request body is too large (no route reads one)"]
    : reason === "timeout"
    ? [408, "RequestTimeout", "the request did not arrive in time"]
    : [400, "BadRequest", "the request is not HTTP/1.1 this server can parse"];
  return jsonError(status, code, message);
}

export interface CredentialServerOptions {
  readonly settings: SessionSettings;
  readonly environment: Environment;
  readonly listen: ListenAddress;
  /**
   * PEM certificate chain and key files, and the pair read from them and checked (checkTlsPair):
   * serve HTTPS with it, and reload the files when they are replaced.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly pair: TlsPair };
  readonly token: AuthorizationToken;
  /** Offer IMDSv2 (only on loopback: it has no client authentication). */
  readonly imds: boolean;
  /** One line per event. */
  readonly log: (line: string) => void;
}

export interface CredentialServer {
  /** The port actually bound (for --listen HOST:0). */
  readonly port: number;
  readonly keeper: CredentialKeeper;
  /** The certificate of the first credentials. */
  readonly certificate: IdentityLabel;
  readonly first: Held;
  close(): Promise<void>;
}

export async function startCredentialServer(options: CredentialServerOptions): Promise<CredentialServer> {
  const { settings, environment, log } = options;
  const supply = await startCredentialSupply({ settings, environment, log });
  const { keeper, first, certificate } = supply;
  const imds = options.imds ? await ImdsSessions.create() : undefined;
  const context = {
    usable: () => keeper.usable(),
    authorize: (header: string | null) => options.token.check(header),
    imds,
    roleName: settings.roleArn.resource.split("/").pop()!,
    accountId: settings.roleArn.account,
    now: environment.now,
  };

  const handler = async (request: Request) => {
    try {
      return await answer(request, context);
    } catch (error) {
      log(`internal error answering ${request.method} ${new URL(request.url).pathname}: ${messageOf(error)}`);
      return jsonError(500, "InternalError", "see the server log");
    }
  };
  let pair = options.tls?.pair;
  let server: HttpServer;
  try {
    server = await listen({
      hostname: options.listen.hostname,
      port: options.listen.port,
      tls: pair,
      limits: SERVE_LIMITS,
      reject: refusal,
    }, handler);
  } catch (error) {
    supply.stop();
    if (error instanceof CertroleError) throw error;
    const where = `${options.listen.hostname}:${options.listen.port}`;
    if (error instanceof Deno.errors.AddrInUse) {
      fail("AddressInUse", `${where} is already in use: pick another --listen/--port (port 0 picks a free one)`);
    }
    fail("ListenFailed", `cannot listen on ${where} (${messageOf(error)})`);
  }
  const port = server.port;

  let reloading = false;
  let rejected = "";
  const tlsWatch = options.tls && setInterval(async () => {
    if (reloading) return;
    reloading = true;
    try {
      const next = await readTlsPair(options.tls!.certFile, options.tls!.keyFile).catch(() => undefined);
      if (!next || (next.cert === pair!.cert && next.key === pair!.key) || next.cert + next.key === rejected) return;
      try {
        // node:tls takes any pair and fails every handshake of a bad one: checkTlsPair tries it on a
        // throwaway Deno listener first (naming what is wrong), so only a pair that works replaces the old one.
        await checkTlsPair(next, options.tls!);
      } catch (error) {
        rejected = next.cert + next.key;
        log(`TLS certificate ${options.tls!.certFile} replaced but refused (${messageOf(error)}): keeping the old one`);
        return;
      }
      server.replaceTls(next);
      pair = next;
      log(`TLS certificate ${options.tls!.certFile} replaced: new connections use it`);
    } finally {
      reloading = false;
    }
  }, ROTATION_POLL_MS);

  options.token.watch(log);

  return {
    port,
    keeper,
    certificate,
    first,
    async close() {
      clearInterval(tlsWatch);
      supply.stop();
      options.token.stop();
      await server.close();
    },
  };
}
