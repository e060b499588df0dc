/**
 * A small fleet (scripts/fleet_simulation.ts: serve's credential keeper per pod, each with its
 * own certificate) refreshing against the emulator's account-wide CreateSession quota, with
 * credentials that live 20 s (a refresh every 5 s: about 4 a second, half the quota): every pod
 * starts, refreshes several times, and no pod ever hands out expired credentials or answers 503,
 * although the start was throttled. The 1,000-pod run
 * of deploy/SCALING.md is the same script with larger numbers.
 */
import assert from "node:assert/strict";
import { ROOT, run, tempDir } from "./support/run.ts";

Deno.test("fleet simulation: 20 pods under an 8/s quota never hand out expired credentials", async () => {
  const json = `${await tempDir()}/fleet.json`;
  const result = await run(Deno.execPath(), [
    ...["run", "--allow-all", `${ROOT}/scripts/fleet_simulation.ts`],
    ...["--identities", "20", "--throttle", "8", "--lifetime", "20", "--duration", "25", "--max-attempts", "10"],
    ...["--json", json],
  ], { killAfterMs: 120_000 });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const summary = JSON.parse(await Deno.readTextFile(json));
  assert.equal(summary.podsRunning, 20);
  assert.equal(summary.expiredHandedOut, 0);
  assert.equal(summary.podSecondsAnswering503, 0);
  assert.ok(summary.createSession.throttled > 0, "the start was throttled");
  assert.ok(summary.issuedPerPod >= 3, `pods refreshed (${summary.issuedPerPod} sessions each)`);
  assert.ok(summary.minSecondsLeftHandedOut >= 5, "never under the floor (a quarter of 20 s)");
});
