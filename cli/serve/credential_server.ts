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
import { answer } from "./credential_endpoints.ts";
import { ImdsSessions } from "./imds_session.ts";
import type { ListenAddress } from "./listen_address.ts";
import { checkTlsPair, readTlsPair, type TlsPair } from "./tls_pair.ts";

export interface CredentialServerOptions {
  readonly settings: SessionSettings;
  readonly environment: Environment;
  readonly listen: ListenAddress;
  /** PEM certificate chain and key files: serve HTTPS (and reload them when they are replaced). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
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
      return new Response('{"Code":"InternalError","Message":"see the server log"}', { status: 500 });
    }
  };
  const listen = async (port: number, pair?: TlsPair) => {
    const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
    const server = Deno.serve({
      hostname: options.listen.hostname,
      port,
      onListen: (address) => resolve(address as Deno.NetAddr),
      onError: () => new Response('{"Code":"InternalError","Message":"see the server log"}', { status: 500 }),
      ...(pair ?? {}),
    }, handler);
    return { server, address: await listening };
  };

  const listenAgain = async (port: number, next: TlsPair) => {
    for (let attempt = 1;; attempt++) {
      try {
        return await listen(port, next);
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse) || attempt >= 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };

  let pair: TlsPair | undefined;
  let current: { server: Deno.HttpServer; address: Deno.NetAddr };
  try {
    pair = options.tls && await readTlsPair(options.tls.certFile, options.tls.keyFile);
    current = await listen(options.listen.port, pair);
  } catch (error) {
    supply.stop();
    if (error instanceof CertroleError) throw error;
    const where = `${options.listen.hostname}:${options.listen.port}`;
    if (error instanceof Deno.errors.AddrInUse) {
      fail("AddressInUse", `${where} is already in use: pick another --listen/--port (port 0 picks a free one)`);
    }
    fail("ListenFailed", `cannot listen on ${where} (${messageOf(error)})`);
  }
  const port = current.address.port;

  let reloading = false;
  let rejected = "";
  const tlsWatch = options.tls && setInterval(async () => {
    if (reloading) return;
    reloading = true;
    try {
      const next = await readTlsPair(options.tls!.certFile, options.tls!.keyFile).catch(() => undefined);
      if (!next || (next.cert === pair!.cert && next.key === pair!.key) || next.cert + next.key === rejected) return;
      try {
        // Checked on a throwaway listener first: the old one closes only for a pair that works.
        await checkTlsPair(next, options.tls!);
      } catch (error) {
        rejected = next.cert + next.key;
        log(`TLS certificate ${options.tls!.certFile} replaced but refused (${messageOf(error)}): keeping the old one`);
        return;
      }
      // Deno cannot swap a listener's certificate, nor share a port without --unstable-net: the old
      // listener stops accepting (its answers in flight finish), the new one binds the same port.
      // Clients retry the moment in between (botocore and the JS SDK retry credential fetches).
      const closing = current.server.shutdown();
      try {
        current = await listenAgain(port, next);
      } catch (error) {
        // Someone else took the port in that moment: without a listener this server is useless,
        // and exiting lets the orchestrator start it again.
        log(`cannot listen on port ${port} again after the TLS certificate change (${messageOf(error)}): exiting`);
        Deno.exit(1);
      }
      pair = next;
      await closing;
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
      await current.server.shutdown();
    },
  };
}
