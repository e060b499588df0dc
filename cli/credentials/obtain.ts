/**
 * From settings to temporary credentials: the cache when it holds fresh ones (without touching
 * the private key), otherwise load and check the identity, call CreateSession once under the
 * cache lock, and store the answer.
 */
import { type DebugLog } from "../debug_log.ts";
import { CertroleError, oneLine } from "../errors.ts";
import {
  CERTIFICATE_FILE,
  certificateFromBytes,
  type Identity,
  loadIdentity,
  readInputFile,
} from "../identity/identity.ts";
import { fingerprintSha256 } from "../identity/certificate.ts";
import { resolvePassphrase } from "../identity/passphrase.ts";
import { createSession, type SessionCredentials, withNextStep } from "../rolesanywhere/create_session.ts";
import type { SessionSettings } from "../session_settings.ts";
import { proxyFor, redactedProxyUrl, type TransportOptions } from "../transport/http_client.ts";
import { trustedCertificates } from "../transport/trust_store.ts";
import {
  cacheKey,
  defaultCacheDir,
  isFresh,
  prepareCacheDir,
  readCached,
  refreshWindowSeconds,
  withLock,
  writeCached,
} from "./cache.ts";

export interface Environment {
  readonly env: (name: string) => string | undefined;
  readonly now: () => Date;
  readonly debug: DebugLog;
  /** One-line warnings for the user (default: stderr, prefixed "certrole: warning: "). */
  readonly warn?: (message: string) => void;
}

export interface Obtained {
  readonly credentials: SessionCredentials;
  readonly source: "cache" | "CreateSession";
  /** Set when a refresh failed and these are cached credentials that have not expired yet. */
  readonly refreshFailure?: string;
}

function warnOnStderr(message: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(`certrole: warning: ${oneLine(message)}\n`));
}

/** Failures worth riding out on still-valid cached credentials: network, throttling, 5xx (after the retries). */
function isTransient(error: unknown): error is CertroleError {
  return error instanceof CertroleError && error.code === "CreateSessionFailed";
}

/** The trusted roots (trust_store.ts), the timeouts and the proxy for the endpoint. */
export async function transportOptions(
  settings: SessionSettings,
  env: (name: string) => string | undefined,
  debug: DebugLog = () => {},
): Promise<TransportOptions> {
  const proxy = proxyFor(new URL(settings.endpoint), env);
  debug(proxy ? `through proxy ${redactedProxyUrl(proxy.href)}` : "no proxy");
  return {
    caCerts: new URL(settings.endpoint).protocol === "https:" ? await trustedCertificates(env, debug) : undefined,
    connectTimeoutMs: settings.connectTimeoutMs,
    totalTimeoutMs: settings.timeoutMs,
    proxy,
  };
}

/** Reads and checks the certificate, chain and key (decrypting in memory): every local check. */
export async function loadSessionIdentity(settings: SessionSettings, environment: Environment): Promise<Identity> {
  const { env, now, debug } = environment;
  const passphrase = await resolvePassphrase({ inline: settings.passphraseInline, file: settings.passphraseFile }, env);
  debug(
    `loading certificate ${settings.certificatePath} and key ${settings.privateKeyPath ?? "(same file)"}` +
      (passphrase ? `, passphrase from ${passphrase.source}` : ""),
  );
  const identity = await loadIdentity(
    {
      certificate: settings.certificatePath,
      privateKey: settings.privateKeyPath,
      intermediates: settings.intermediatesPath,
    },
    passphrase,
    now(),
  );
  debug(
    `certificate serial ${identity.certificate.serialDecimal}, subject ${identity.certificate.subject.text}, ` +
      `key ${identity.key.description}${identity.key.mlDsaForm ? ` (PKCS#8 ${identity.key.mlDsaForm} form)` : ""}${
        identity.key.encrypted ? " (decrypted in memory)" : ""
      }, signs ${identity.key.algorithm}, ` +
      `valid until ${identity.certificate.notAfter.toISOString()}`,
  );
  return identity;
}

/** One CreateSession, bypassing the cache (resident processes hold their credentials in memory). */
export async function fetchCredentials(
  settings: SessionSettings,
  environment: Environment,
  loaded: Identity | undefined,
): Promise<SessionCredentials> {
  const { env, now, debug } = environment;
  const identity = loaded ?? await loadSessionIdentity(settings, environment);
  const files = { certificate: settings.certificatePath, intermediates: settings.intermediatesPath };
  return await createSession(
    {
      endpoint: settings.endpoint,
      region: settings.region,
      trustAnchorArn: settings.trustAnchorArn.text,
      profileArn: settings.profileArn.text,
      roleArn: settings.roleArn.text,
      durationSeconds: settings.durationSeconds,
      roleSessionName: settings.roleSessionName,
      certificate: identity.certificate,
      intermediates: identity.intermediates,
      algorithm: identity.key.algorithm,
    },
    identity.key.signingKey,
    {
      transport: await transportOptions(settings, env, debug),
      maxAttempts: settings.maxAttempts,
      debug,
      now,
      random: Math.random,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    },
  ).catch(async (error) => {
    throw await withNextStep(error, {
      certificate: identity.certificate,
      intermediates: identity.intermediates,
      files,
      now: now(),
    });
  });
}

/**
 * Fresh cached credentials, or new ones from CreateSession. `identity`, when the caller has
 * already loaded it, saves decrypting the key twice.
 */
export async function obtainCredentials(
  settings: SessionSettings,
  environment: Environment,
  identity?: Identity,
): Promise<Obtained> {
  const { env, now, debug } = environment;
  const directory = settings.noCache ? undefined : settings.cacheDir ?? defaultCacheDir(env);
  const cacheDir = directory && await prepareCacheDir(directory, debug);
  if (!cacheDir) {
    debug(settings.noCache ? "cache disabled (--no-cache)" : "no usable cache directory");
    return { credentials: await fetchCredentials(settings, environment, identity), source: "CreateSession" };
  }
  // The cache key needs only the certificate: the key stays encrypted on a cache hit.
  const certificate = identity?.certificate ?? certificateFromBytes(
    await readInputFile(settings.certificatePath, CERTIFICATE_FILE),
    settings.certificatePath,
  );
  const key = await cacheKey({
    certificateFingerprint: await fingerprintSha256(certificate),
    trustAnchorArn: settings.trustAnchorArn.text,
    profileArn: settings.profileArn.text,
    roleArn: settings.roleArn.text,
    region: settings.region,
    endpoint: settings.endpoint,
    durationSeconds: settings.durationSeconds,
    roleSessionName: settings.roleSessionName,
  });
  const window = refreshWindowSeconds(settings.refreshBeforeSeconds, settings.durationSeconds);
  let cached: SessionCredentials | undefined;
  const fresh = async () => {
    cached = await readCached(cacheDir, key, debug) ?? cached;
    return cached && isFresh(cached, now(), window) ? cached : undefined;
  };
  const hit = await fresh();
  if (hit) {
    debug(`cache hit ${cacheDir}/${key}.json: access key ${hit.accessKeyId}, expires ${hit.expiration}`);
    return { credentials: hit, source: "cache" };
  }
  // Waiting on a concurrent caller's CreateSession is bounded by one attempt's timeout.
  return await withLock(cacheDir, key, debug, async () => {
    const shared = await fresh(); // another process may have refreshed while we waited
    if (shared) {
      debug(`cache filled by a concurrent caller: access key ${shared.accessKeyId}`);
      return { credentials: shared, source: "cache" as const };
    }
    debug(`cache miss in ${cacheDir}: calling CreateSession`);
    let credentials: SessionCredentials;
    try {
      credentials = await fetchCredentials(settings, environment, identity);
    } catch (error) {
      const usable = cached && isFresh(cached, now(), 0) ? cached : undefined;
      if (!usable || !isTransient(error)) throw error;
      (environment.warn ?? warnOnStderr)(
        `${error.message}; using the cached credentials (access key ${usable.accessKeyId}), which expire at ${usable.expiration}`,
      );
      return { credentials: usable, source: "cache" as const, refreshFailure: error.message };
    }
    await writeCached(cacheDir, key, credentials, debug);
    return { credentials, source: "CreateSession" as const };
  }, Date.now() + settings.timeoutMs);
}
