/**
 * When and how long to wait before retrying an AWS call: the SDKs' "standard" retry mode.
 * Throttling (429, ThrottlingException), 5xx and network errors are retried with full-jitter
 * exponential backoff, capped at 20 s. Pure: randomness is an argument.
 */

export const DEFAULT_MAX_ATTEMPTS = 3;
const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 20_000;

const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "SlowDown",
]);

export function isRetryableStatus(status: number, errorCode: string | undefined): boolean {
  if (status === 429 || status >= 500) return true;
  return errorCode !== undefined && THROTTLING_CODES.has(errorCode);
}

/** Delay before retry number `retry` (1 for the first retry); `random` is in [0, 1). */
export function retryDelayMs(retry: number, random: number): number {
  return Math.floor(random * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retry - 1)));
}

/** AWS_MAX_ATTEMPTS, as the SDKs read it: a positive integer, total attempts including the first. */
export function maxAttemptsFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const attempts = Number(value);
  if (!Number.isInteger(attempts) || attempts < 1) return NaN;
  return attempts;
}

/**
 * The longest a call with retries can take: every attempt's timeout plus the largest backoff
 * before each retry. Callers hold the whole call (and any wait for a concurrent caller) to it.
 */
export function callBudgetMs(maxAttempts: number, attemptTimeoutMs: number): number {
  let total = maxAttempts * attemptTimeoutMs;
  for (let retry = 1; retry < maxAttempts; retry++) total += Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retry - 1));
  return total;
}
