/**
 * The credential cache. AWS clients run credential_process for every command and AWS's helper
 * calls CreateSession every time; certrole keeps one file per identity (certificate fingerprint,
 * ARNs, region, endpoint, duration, session name) in a private directory and reuses the
 * credentials until they come close to expiry. A lock file makes concurrent callers share one
 * CreateSession. Unusable cache files (corrupt, foreign-owned, group/world-readable) are ignored,
 * never trusted and never fatal; a cache directory or lock file that is a symlink or another
 * user's is an error that names it.
 */
import { linkStatus, writeFileAtomically } from "../atomic_write.ts";
import type { DebugLog } from "../debug_log.ts";
import { fail, messageOf } from "../errors.ts";
import type { SessionCredentials } from "../rolesanywhere/create_session.ts";
import { openLibc, pidNamespace, processExists } from "../process/libc.ts";
import { sha256Hex } from "../signing/sigv4_x509.ts";

export interface CacheIdentity {
  readonly certificateFingerprint: string;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly region: string;
  readonly endpoint: string;
  readonly durationSeconds: number;
  readonly roleSessionName?: string;
}

/**
 * botocore (the AWS CLI, boto3) refreshes credentials with under 15 minutes left before a call (its
 * advisory window: a failure is only logged); under 10 minutes (its mandatory window) every call
 * blocks until the refresh is done and a failed refresh raises. It raises "refreshed credentials
 * are still expired" only for credentials past expiry. Credentials reused closer to expiry would
 * send a long-running boto3 back to the credential process before every call, so reuse stops 15
 * minutes before expiry by default.
 */
export const DEFAULT_REFRESH_BEFORE_SECONDS = 900;

export async function cacheKey(identity: CacheIdentity): Promise<string> {
  const ordered = [
    identity.certificateFingerprint,
    identity.trustAnchorArn,
    identity.profileArn,
    identity.roleArn,
    identity.region,
    identity.endpoint,
    identity.durationSeconds,
    identity.roleSessionName ?? null,
  ];
  return await sha256Hex(JSON.stringify(ordered));
}

/**
 * How long before expiry cached credentials stop being handed out. Capped at the session
 * duration minus a minute, so even 15-minute sessions are shared by a burst of callers.
 */
export function refreshWindowSeconds(refreshBefore: number, durationSeconds: number): number {
  return Math.max(0, Math.min(refreshBefore, durationSeconds - 60));
}

/** Pure: true while `now` is more than `windowSeconds` before the expiration. */
export function isFresh(credentials: SessionCredentials, now: Date, windowSeconds: number): boolean {
  const expiry = Date.parse(credentials.expiration);
  return Number.isFinite(expiry) && expiry - now.getTime() > windowSeconds * 1000;
}

/**
 * $XDG_RUNTIME_DIR/certrole (a per-user tmpfs), else $XDG_CACHE_HOME/certrole, else
 * ~/.cache/certrole; each only when the directory it lives in (the runtime directory, the cache
 * home, HOME) exists: certrole makes its own directory, never a missing HOME (HOME=/nonexistent for
 * system users). Undefined when there is none.
 */
export function defaultCacheDir(env: (name: string) => string | undefined): string | undefined {
  const isDirectory = (path: string) => {
    try {
      return Deno.statSync(path).isDirectory;
    } catch {
      return false;
    }
  };
  const runtime = env("XDG_RUNTIME_DIR");
  if (runtime && isDirectory(runtime)) return `${runtime}/certrole`;
  const cacheHome = env("XDG_CACHE_HOME");
  if (cacheHome && isDirectory(cacheHome)) return `${cacheHome}/certrole`;
  const home = env("HOME");
  return home && home !== "/" && isDirectory(home) ? `${home}/.cache/certrole` : undefined;
}

/**
 * A symlink or another user's file where the cache keeps secrets is refused outright: followed,
 * it would let whoever controls it choose where credentials go.
 */
function refuseForeign(info: Deno.FileInfo, path: string, what: string): void {
  const fix = "set --cache-dir (ROLESANYWHERE_CACHE_DIR) to a directory of your own, or remove it";
  if (info.isSymlink) {
    fail("UnsafeCache", `${what} "${path}" is a symbolic link, which certrole does not follow: ${fix}`);
  }
  if (info.uid !== Deno.uid()) {
    fail("UnsafeCache", `${what} "${path}" belongs to uid ${info.uid}, not to you (uid ${Deno.uid()}): ${fix}`);
  }
}

/**
 * Creates the directory 0700 and returns it; an existing one is used as it is when it is ours and
 * no other user may write to it (cache files are 0600 either way). Never changes the mode of a
 * directory it did not create: `--cache-dir /` as root must not make / private. Undefined when it
 * cannot be used (writable by others, not a directory, not creatable), after saying why on the
 * debug log. A symlink or a directory owned by someone else is a CertroleError.
 */
export async function prepareCacheDir(dir: string, debug: DebugLog): Promise<string | undefined> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await linkStatus(dir);
    if (!info) {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      info = await Deno.lstat(dir);
    }
  } catch (error) {
    debug(`cache directory ${dir} unusable (${messageOf(error)}): caching disabled`);
    return undefined;
  }
  refuseForeign(info, dir, "cache directory");
  if (!info.isDirectory) {
    debug(`cache directory ${dir} unusable (not a directory): caching disabled`);
    return undefined;
  }
  if (((info.mode ?? 0) & 0o022) !== 0) {
    const mode = ((info.mode ?? 0) & 0o7777).toString(8).padStart(4, "0");
    debug(`cache directory ${dir} is writable by other users (mode ${mode}): caching disabled`);
    return undefined;
  }
  return dir;
}

function isCredentials(value: unknown): value is SessionCredentials {
  if (!value || typeof value !== "object") return false;
  const record = value as Record<string, unknown>;
  return ["accessKeyId", "secretAccessKey", "sessionToken", "expiration"].every((field) =>
    typeof record[field] === "string" && record[field] !== ""
  );
}

/** The cached credentials for `key`, or undefined when absent, corrupt or not ours. */
export async function readCached(dir: string, key: string, debug: DebugLog): Promise<SessionCredentials | undefined> {
  const path = `${dir}/${key}.json`;
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile || info.uid !== Deno.uid() || ((info.mode ?? 0) & 0o077) !== 0) {
      debug(`ignoring cache file ${path}: not a private file of ours`);
      return undefined;
    }
    const parsed = JSON.parse(await Deno.readTextFile(path));
    if (parsed?.version !== 1 || !isCredentials(parsed.credentials)) {
      debug(`ignoring cache file ${path}: unexpected content`);
      return undefined;
    }
    return parsed.credentials;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      debug(`ignoring cache file ${path}: ${error instanceof Error ? error.message : error}`);
    }
    return undefined;
  }
}

/** Written atomically and privately: concurrent readers never see half a file. */
export async function writeCached(
  dir: string,
  key: string,
  credentials: SessionCredentials,
  debug: DebugLog,
): Promise<void> {
  const path = `${dir}/${key}.json`;
  try {
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = credentials;
    await writeFileAtomically(
      path,
      JSON.stringify({ version: 1, credentials: { accessKeyId, secretAccessKey, sessionToken, expiration } }),
      { mode: 0o600 },
    );
  } catch (error) {
    debug(`could not write cache file ${path}: ${error instanceof Error ? error.message : error}`);
  }
}

/**
 * Runs `work` holding an exclusive lock for `key`, so concurrent processes wait for one
 * CreateSession instead of each making their own. The wait ends at `waitUntil` (ms since the
 * epoch), or at once when the lock is stale: the holder named in the lock file is gone while the
 * lock is still held (its descriptor lives on in some other process). `work` then runs without
 * the lock: a second CreateSession is better than a caller stuck behind a stopped or slow one.
 * Without a usable lock file it just runs.
 */
export async function withLock<T>(
  dir: string,
  key: string,
  debug: DebugLog,
  work: () => Promise<T>,
  waitUntil = Infinity,
): Promise<T> {
  const path = `${dir}/${key}.lock`;
  let file: Deno.FsFile;
  let existing: Deno.FileInfo | undefined;
  try {
    existing = await linkStatus(path);
  } catch (error) {
    debug(`running without the cache lock: ${messageOf(error)}`);
    return await work();
  }
  // Checked before the open, which follows links: the directory is ours and nobody else may
  // write to it, so nobody else can put a link there between the two.
  if (existing) refuseForeign(existing, path, "cache lock file");
  try {
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (error) {
    debug(`running without the cache lock: ${error instanceof Error ? error.message : error}`);
    return await work();
  }
  let held = false;
  try {
    held = await acquire(file, path, waitUntil, debug);
    if (held) await recordHolder(file);
    return await work();
  } finally {
    // Emptied first, so a waiter never takes a former holder's PID for the next one's.
    if (held) await file.truncate(0).catch(() => {});
    // Releases the lock, or, when the wait was abandoned, the lock the pending call takes later.
    file.close();
  }
}

const HOLDER_CHECK_MS = 100;

async function acquire(file: Deno.FsFile, path: string, waitUntil: number, debug: DebugLog): Promise<boolean> {
  const locking = file.lock(true).then(() => true, (error) => {
    debug(`running without the cache lock: ${error instanceof Error ? error.message : error}`);
    return false;
  });
  const started = Date.now();
  while (true) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(0, Math.min(HOLDER_CHECK_MS, waitUntil - Date.now())));
    });
    const outcome = await Promise.race([locking, tick]);
    clearTimeout(timer);
    if (outcome !== undefined) return outcome;
    const holder = lockHolder(path);
    if (holder.state === "gone") {
      debug(`the cache lock is stale (its holder, PID ${holder.pid}, is gone): calling CreateSession without it`);
      return false;
    }
    if (Date.now() >= waitUntil) {
      debug(
        `gave up waiting for the cache lock after ${
          Math.round((Date.now() - started) / 100) / 10
        }s: calling CreateSession without it`,
      );
      return false;
    }
  }
}

/** The holder's PID and PID namespace (a PID means nothing in another container's namespace). */
function holderRecord(): string | undefined {
  const libc = openLibc();
  if (libc instanceof Error) return undefined;
  const namespace = pidNamespace(libc);
  return namespace && `${Deno.pid} ${namespace}\n`;
}

async function recordHolder(file: Deno.FsFile): Promise<void> {
  const record = holderRecord();
  if (!record) return;
  try {
    await file.truncate(0); // a holder killed mid-way leaves its record behind
    await file.seek(0, Deno.SeekMode.Start);
    await file.write(new TextEncoder().encode(record));
  } catch { /* the lock still works; only stale-lock detection is lost */ }
}

type Holder =
  | { readonly state: "unknown" }
  | { readonly state: "alive" | "gone"; readonly pid: number };

/** Whether the process named in the lock file still exists, when it is in our PID namespace. */
export function lockHolder(path: string): Holder {
  const libc = openLibc();
  if (libc instanceof Error) return { state: "unknown" };
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return { state: "unknown" };
  }
  const [pidText, namespace] = text.trim().split(" ");
  if (!/^\d+$/.test(pidText ?? "") || !namespace || namespace !== pidNamespace(libc)) return { state: "unknown" };
  const pid = Number(pidText);
  return { state: processExists(libc, pid) ? "alive" : "gone", pid };
}
