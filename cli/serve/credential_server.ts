/**
 * A running credential server: the identity checked, the first credentials fetched (a failure
 * stops start-up with its one-line reason), the listener up, background refresh and rotation
 * watching on. `serve` and `exec --supervise` both run one. `close()` stops accepting, lets
 * in-flight answers finish and ends the timers.
 */
import type { CredentialKeeper, Held } from "../credentials/credential_keeper.ts";
import { startCredentialSupply } from "../credentials/credential_supply.ts";
import type { IdentityLabel } from "../credentials/identity_source.ts";
import type { Environment } from "../credentials/obtain.ts";
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
    supply.stop();
    const where = `${options.listen.hostname}:${options.listen.port}`;
    if (error instanceof Deno.errors.AddrInUse) {
      fail("AddressInUse", `${where} is already in use: pick another --listen/--port (port 0 picks a free one)`);
    }
    fail("ListenFailed", `cannot listen on ${where} (${messageOf(error)})`);
  }
  const address = await listening;

  options.token.watch(log);

  return {
    port: address.port,
    keeper,
    certificate,
    first,
    async close() {
      supply.stop();
      options.token.stop();
      await server.shutdown();
    },
  };
}
