/**
 * When a resident process (`serve`, `update`, `exec --supervise`) refreshes the credentials it
 * holds, and until when it hands them out. Pure: times and randomness are arguments.
 *
 * Why these numbers: botocore (the AWS CLI, boto3) refreshes credentials with under 15 minutes
 * left before a call (its advisory window: one thread refreshes, a failure is only logged); under
 * 10 minutes (its mandatory window) every call blocks until the refresh is done and a failed
 * refresh raises. It raises "refreshed credentials are still expired" only for credentials already
 * past expiry (`_is_expired()` is `refresh_needed(refresh_in=0)`). Credentials handed out with
 * under 15 minutes left would bring every client call back to the server, so they must have at
 * least 15 minutes to live. They are refreshed at the earlier of half their lifetime and
 * 20 minutes before expiry, up to 10% earlier at random so a fleet started together does not call
 * CreateSession in lockstep. Sessions shorter than 40 minutes (CreateSession allows 15) cannot
 * keep those margins; for them both points scale with the lifetime: refresh no sooner than a
 * quarter of the way in, hand out until a quarter of the lifetime is left.
 *
 * @example
 * ```ts
 * const obtained = new Date("2024-01-01T00:00:00Z");
 * const plan = refreshPlan(obtained, new Date("2024-01-01T01:00:00Z"), 0);
 * plan.refreshAt.toISOString(); // "2024-01-01T00:30:00.000Z" (half of one hour)
 * plan.usableUntil.toISOString(); // "2024-01-01T00:45:00.000Z" (15 minutes before expiry)
 * ```
 */
import { isoSeconds } from "../iso_time.ts";

/** botocore's advisory refresh window: never hand out credentials closer to expiry than this. */
export const HANDOUT_FLOOR_MS = 15 * 60 * 1000;
/** Refresh at the latest this long before expiry. */
export const REFRESH_BEFORE_EXPIRY_MS = 20 * 60 * 1000;
/** The refresh point moves up to this fraction earlier, at random. */
export const JITTER_FRACTION = 0.1;

export interface RefreshPlan {
  readonly obtainedAt: Date;
  readonly expiresAt: Date;
  /** When to fetch new credentials (jitter applied). */
  readonly refreshAt: Date;
  /** The last moment these credentials are handed out: later, clients get 503. */
  readonly usableUntil: Date;
}

/** `random` is in [0, 1): 0 refreshes at the nominal point, values near 1 up to 10% sooner. */
export function refreshPlan(obtainedAt: Date, expiresAt: Date, random: number): RefreshPlan {
  const lifetime = Math.max(0, expiresAt.getTime() - obtainedAt.getTime());
  const nominal = Math.max(lifetime / 4, Math.min(lifetime / 2, lifetime - REFRESH_BEFORE_EXPIRY_MS));
  const floor = Math.min(HANDOUT_FLOOR_MS, lifetime / 4);
  return {
    obtainedAt,
    expiresAt,
    refreshAt: new Date(obtainedAt.getTime() + nominal * (1 - JITTER_FRACTION * random)),
    usableUntil: new Date(expiresAt.getTime() - floor),
  };
}

/** True while the credentials may still be handed out. */
export function isUsable(plan: RefreshPlan, now: Date): boolean {
  return now.getTime() < plan.usableUntil.getTime();
}

/**
 * The wait before retry number `failures` (1 after the first failure): 1 s doubling to at most
 * 60 s, each drawn between half and all of that ("equal jitter"), and never past the moment the
 * held credentials stop being usable when that is sooner, so the last chance is not missed.
 */
export function retryDelayMs(failures: number, random: number, msUntilUnusable?: number): number {
  const ceiling = Math.min(60_000, 1000 * 2 ** Math.max(0, failures - 1));
  const delay = ceiling / 2 + (ceiling / 2) * random;
  if (msUntilUnusable !== undefined && msUntilUnusable > 1000) return Math.min(delay, msUntilUnusable / 2);
  return delay;
}

/** Expiration as AWS's metadata services write it: whole seconds, UTC, `Z` (botocore parses IMDS's so). */
export function metadataTime(date: Date): string {
  return isoSeconds(date);
}
