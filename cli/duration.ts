/**
 * Durations as people type them on command lines ("24h", "30m", "7d", "90s", "1h30m") and as
 * certrole prints them ("23h 59m"). Pure.
 *
 * @example
 * ```ts
 * parseDuration("1h30m", "--warn-within"); // 5_400_000
 * formatDuration(5_400_000); // "1h 30m"
 * ```
 */
import { fail } from "./errors.ts";

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };

/** The longest duration accepted: 100 000 days (about 273 years), far inside JavaScript's dates. */
const MAX_DURATION_MS = 100_000 * 86_400_000;

/** Milliseconds; a bare number is seconds. A one-line usage error names `setting`. */
export function parseDuration(text: string, setting: string): number {
  const trimmed = text.trim().toLowerCase();
  if (!/^\d+$/.test(trimmed) && !/^(\d+[dhms])+$/.test(trimmed)) {
    fail("InvalidSetting", `${setting} "${text}" is not a duration like 24h, 30m, 7d or 1h30m`);
  }
  let total = /^\d+$/.test(trimmed) ? Number(trimmed) * 1_000 : 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([dhms])/g)) total += Number(amount) * UNIT_MS[unit];
  if (!(total <= MAX_DURATION_MS)) {
    fail("InvalidSetting", `${setting} "${text}" is too long: use at most 100000d`);
  }
  return total;
}

/** The two largest non-zero units: "2d 3h", "23h 59m", "45s". */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.floor(ms / 1_000)) * 1_000;
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || parts.length > 0) parts.push(`${amount}${unit}`);
  }
  const significant = parts.slice(0, 2).filter((part) => !/^0/.test(part));
  return significant.length ? significant.join(" ") : "0s";
}
