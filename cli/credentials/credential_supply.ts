/**
 * The credentials of a resident process, from settings to a running supply: the identity loaded
 * and checked, the first CreateSession made (its failure thrown: start-up fails fast), then
 * refreshed in the background on the keeper's schedule and at once when the certificate files
 * change. `serve`, `update` and `exec --supervise` each run one.
 */
import { CredentialKeeper, type Held } from "./credential_keeper.ts";
import { type IdentityLabel, IdentitySource } from "./identity_source.ts";
import { type Environment, fetchCredentials } from "./obtain.ts";
import type { SessionSettings } from "../session_settings.ts";

/** How often the certificate, intermediates and key files are compared with what is loaded. */
export const ROTATION_POLL_MS = 1000;

export interface CredentialSupply {
  readonly keeper: CredentialKeeper;
  /** The first credentials, and the certificate they were issued to. */
  readonly first: Held;
  readonly certificate: IdentityLabel;
  stop(): void;
}

export async function startCredentialSupply(options: {
  readonly settings: SessionSettings;
  readonly environment: Environment;
  readonly log: (line: string) => void;
  readonly onFetched?: (held: Held) => Promise<void>;
}): Promise<CredentialSupply> {
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
    onFetched: options.onFetched,
    now: environment.now,
  });
  const first = await keeper.start();
  let polling = false;
  const watcher = setInterval(async () => {
    if (polling) return;
    polling = true;
    try {
      if (await identities.poll()) await keeper.refresh("certificate rotated");
    } finally {
      polling = false;
    }
  }, ROTATION_POLL_MS);
  return {
    keeper,
    first,
    certificate,
    stop() {
      clearInterval(watcher);
      keeper.stop();
    },
  };
}
