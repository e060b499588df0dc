/**
 * `--throttle TPS`: token buckets for CreateSession, one per certificate (or, with
 * `--throttle-scope account`, one for the account). Each bucket allows TPS calls a second on
 * average, in bursts of up to TPS (at least one); calls beyond that are answered with
 * ThrottlingException. Pure: the time is passed in.
 *
 * AWS's own quota ("Rate of CreateSession requests", 10 per second by default, per account and
 * Region, per the Roles Anywhere quotas page) is shared by every certificate of the account;
 * the emulator counts per certificate by default so that tests running side by side with their
 * own certificates do not throttle each other, and per account with `--throttle-scope account`
 * (a fleet simulation against AWS's quota).
 */

/** What one bucket counts: each certificate's calls, or (AWS's quota) the whole account's. */
export type ThrottleScope = "certificate" | "account";
export const THROTTLE_SCOPES: readonly ThrottleScope[] = ["certificate", "account"];

/** Buckets (certificates) remembered at once; the longest unseen is forgotten first (it would be full again). */
const MAX_TRACKED = 10_000;

export class Throttle {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** `ratePerSecond` > 0; fractions allowed (0.1: one call every 10 s). */
  constructor(ratePerSecond: number) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError("the rate must be positive");
    this.#rate = ratePerSecond;
    this.#burst = Math.max(1, ratePerSecond);
  }

  /** Takes a token for `key` at time `nowMs`: false when the bucket is empty (throttle the call). */
  admit(key: string, nowMs: number): boolean {
    const bucket = this.#buckets.get(key);
    let tokens = this.#burst;
    if (bucket) {
      tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, nowMs - bucket.at) / 1000 * this.#rate);
      this.#buckets.delete(key); // re-inserted below: the Map's order is least recently seen first
    } else if (this.#buckets.size >= MAX_TRACKED) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    const admitted = tokens >= 1;
    this.#buckets.set(key, { tokens: admitted ? tokens - 1 : tokens, at: nowMs });
    return admitted;
  }
}
