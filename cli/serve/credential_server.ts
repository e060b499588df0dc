/**
 * A running credential server: the identity checked, the first credentials fetched (a failure
 * stops start-up with its one-line reason), the listener up, background refresh and rotation
 * watching on. `serve` and `exec --supervise` both run one. `close()` stops accepting, lets
 * in-flight answers finish and ends the timers.
 */
import { CredentialKeeper, type Held } from "../credentials/credential_keeper.ts";
import { type IdentityLabel, IdentitySource } from "../credentials/identity_source.ts";
import { type Environment, fetchCredentials } from "../credentials/obtain.ts";
import { fail, messageOf } from "../errors.ts";
import type { SessionSettings } from "../session_settings.ts";
import type { AuthorizationToken } from "./authorization_token.ts";
import { answer } from "./credential_endpoints.ts";
import { ImdsSessions } from "./imds_session.ts";
import type { ListenAddress } from "./listen_address.ts";

export interface CredentialServerOptions {
  readonly settings: SessionSettings;
  readonly environment: Environment;
  readonly listen: ListenAddress;
  /** PEM certificate chain and key: serve HTTPS. */
  readonly tls?: { readonly cert: string; readonly key: string };
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

/** How often the certificate, intermediates and key files are compared with what is loaded. */
export const ROTATION_POLL_MS = 1000;

export async function startCredentialServer(options: CredentialServerOptions): Promise<CredentialServer> {
  const { settings, environment, log } = options;
  const identities = new IdentitySource(settings, environment, log);
  const certificate = await identities.load();
  const keeper = new CredentialKeeper({
    fetch: async () => {
      const identity = await identities.current();
      const credentials = await fetchCredentials(settings, environment, identity);
      return { credentials, certificate: identities.label! };
    },
    log,
    now: environment.now,
  });
  const first = await keeper.start();
  const imds = options.imds ? await ImdsSessions.create() : undefined;
  const context = {
    usable: () => keeper.usable(),
    authorize: (header: string | null) => options.token.check(header),
    imds,
    roleName: settings.roleArn.resource.split("/").pop()!,
    accountId: settings.roleArn.account,
    now: environment.now,
  };

  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: options.listen.hostname,
      port: options.listen.port,
      onListen: (address) => resolve(address as Deno.NetAddr),
      onError: () => new Response('{"Code":"InternalError","Message":"see the server log"}', { status: 500 }),
      ...(options.tls ?? {}),
    }, async (request) => {
      try {
        return await answer(request, context);
      } catch (error) {
        log(`internal error answering ${request.method} ${new URL(request.url).pathname}: ${messageOf(error)}`);
        return new Response('{"Code":"InternalError","Message":"see the server log"}', { status: 500 });
      }
    });
  } catch (error) {
    keeper.stop();
    const where = `${options.listen.hostname}:${options.listen.port}`;
    if (error instanceof Deno.errors.AddrInUse) {
      fail("AddressInUse", `${where} is already in use: pick another --listen/--port (port 0 picks a free one)`);
    }
    fail("ListenFailed", `cannot listen on ${where} (${messageOf(error)})`);
  }
  const address = await listening;

  let watching = false;
  const watcher = setInterval(async () => {
    if (watching) return;
    watching = true;
    try {
      if (await identities.poll()) await keeper.refresh("certificate rotated");
    } finally {
      watching = false;
    }
  }, ROTATION_POLL_MS);
  options.token.watch(log);

  return {
    port: address.port,
    keeper,
    certificate,
    first,
    async close() {
      clearInterval(watcher);
      keeper.stop();
      options.token.stop();
      await server.shutdown();
    },
  };
}
