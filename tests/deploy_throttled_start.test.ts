/**
 * A sidecar whose first CreateSession is throttled (the account's quota used up, as when a fleet
 * starts at once) keeps retrying instead of exiting: the shipped native sidecar sets
 * AWS_MAX_ATTEMPTS=10 and a startup probe that waits for it. The emulator allows one
 * CreateSession every 5 s for the whole account, and the test spends it just before the pod
 * starts: with the default 3 attempts (at most 3 s of backoff) serve would exit and be restarted
 * (the kubelet's CrashLoopBackOff); with the manifest's 10 it is never restarted, the pod becomes
 * ready and the application lists the buckets.
 */
import assert from "node:assert/strict";
import { DEPLOY_TESTS_SKIPPED, waitForCalls, withPod } from "./support/deploy.ts";
import { signedCreateSession } from "./support/create_session.ts";
import { podmanOk } from "./support/images.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

Deno.test(
  { name: "throttled start: the sidecar retries a throttled first CreateSession and becomes ready", ignore },
  () =>
    withPod({ emulator: { throttleTps: 0.2, throttleScope: "account" } }, async (test) => {
      const { emulator, pki } = test;
      const deployment = await test.deployment("native-sidecar", "boto3App");
      const other = await pki.issue("another-pod");
      assert.equal((await signedCreateSession(emulator.walkthrough, other)).status, 201, "another pod takes the quota");
      const pod = await test.play(deployment);
      assert.equal(pod.startFailure, undefined, await pod.logs("certrole"));
      const outcomes = emulator.walkthrough.sessionLog.slice(1).map((entry) => entry.outcome);
      assert.ok(outcomes.includes("ThrottlingException"), `the sidecar was throttled first: ${outcomes}`);
      assert.equal(outcomes.at(-1), "issued");
      const restarts = await podmanOk(["inspect", "--format", "{{.RestartCount}}", pod.containerName("certrole")]);
      assert.equal(restarts.trim(), "0", "serve kept retrying instead of exiting into a restart (CrashLoopBackOff)");
      await waitForCalls("a call", 60, () => pod.logs("app"), (calls) => calls.some((call) => call.ok));
      console.log(`throttled start: ${outcomes.length - 1} throttled attempt(s), then issued`);
    }),
);
