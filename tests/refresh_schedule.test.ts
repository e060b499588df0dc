/**
 * The refresh schedule of resident commands: refresh at the earlier of half the lifetime and 20
 * minutes before expiry, jittered only earlier (at most 10%), never hand out credentials with
 * under 15 minutes left (scaled to a quarter of the lifetime for sessions too short for that),
 * retry backoff bounded by what is left. Pure.
 */
import assert from "node:assert/strict";
import { isUsable, metadataTime, refreshPlan, retryDelayMs } from "../cli/credentials/refresh_schedule.ts";

const T0 = new Date("2024-01-01T00:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const offset = (date: Date) => (date.getTime() - T0.getTime()) / 1000;

Deno.test("one hour: refresh at half-life, hand out until 15 minutes before expiry", () => {
  const plan = refreshPlan(T0, at(3600), 0);
  assert.equal(offset(plan.refreshAt), 1800);
  assert.equal(offset(plan.usableUntil), 2700);
  assert.ok(isUsable(plan, at(2699)));
  assert.ok(!isUsable(plan, at(2700)));
});

Deno.test("12 hours: half-life; 30 minutes: 20 minutes before expiry", () => {
  assert.equal(offset(refreshPlan(T0, at(43200), 0).refreshAt), 21600);
  const short = refreshPlan(T0, at(1800), 0);
  assert.equal(offset(short.refreshAt), 600, "20 minutes before expiry comes before half of 30 minutes");
  assert.equal(offset(short.usableUntil), 1800 - 450, "a quarter of the lifetime is left at the floor");
});

Deno.test("every lifetime: the refresh comes before the hand-out floor, and credentials handed out have 15 min (or a quarter) left", () => {
  for (const lifetime of [20, 60, 900, 1200, 1600, 2400, 3600, 7200, 43200]) {
    for (const random of [0, 0.5, 0.999]) {
      const plan = refreshPlan(T0, at(lifetime), random);
      const refresh = offset(plan.refreshAt);
      assert.ok(refresh > 0, `${lifetime}: refresh after the start`);
      assert.ok(refresh <= offset(plan.usableUntil), `${lifetime}: refresh before the floor`);
      assert.ok(lifetime - refresh >= Math.min(1200, lifetime / 4 * 3) - 1e-9, `${lifetime}: margin at refresh`);
      assert.equal(lifetime - offset(plan.usableUntil), Math.min(900, lifetime / 4));
    }
  }
});

Deno.test("jitter moves the refresh up to 10% earlier, never later", () => {
  const nominal = offset(refreshPlan(T0, at(3600), 0).refreshAt);
  const earliest = offset(refreshPlan(T0, at(3600), 0.999999).refreshAt);
  assert.ok(earliest < nominal && earliest >= nominal * 0.9 - 1e-6, `${earliest}`);
  const spread = new Set(Array.from({ length: 20 }, (_, i) => offset(refreshPlan(T0, at(3600), i / 20).refreshAt)));
  assert.equal(spread.size, 20, "different draws spread a fleet out");
});

Deno.test("retry backoff doubles from 1 s to 60 s with jitter, and never waits past half of what is left", () => {
  assert.equal(retryDelayMs(1, 1), 1000);
  assert.equal(retryDelayMs(1, 0), 500);
  assert.equal(retryDelayMs(3, 1), 4000);
  assert.equal(retryDelayMs(30, 1), 60_000);
  assert.equal(retryDelayMs(30, 1, 10_000), 5000);
  assert.equal(retryDelayMs(2, 1, 500), 2000, "nothing usable left: plain backoff");
});

Deno.test("metadata times are whole seconds in UTC with Z (botocore's IMDS format)", () => {
  assert.equal(metadataTime(new Date("2024-01-02T03:04:05.987Z")), "2024-01-02T03:04:05Z");
});
