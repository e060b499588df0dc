/**
 * deploy/kubernetes/classic-sidecar/deployment.yaml (clusters before 1.29) on podman: serve is the
 * pod's first container and its postStart hook holds the application back until serve holds
 * credentials (kube_play.ts runs the hook between the two starts, as the kubelet does). The AWS
 * CLI application then lists the buckets from its first call, and the pod is ready.
 */
import assert from "node:assert/strict";
import { BUCKET, DEPLOY_TESTS_SKIPPED, waitForCalls, withPod } from "./support/deploy.ts";
import { issuedSessions } from "./support/emulator.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

Deno.test(
  { name: "classic sidecar: postStart holds the AWS CLI application until credentials are held", ignore },
  () =>
    withPod({}, async ({ emulator, deployment, play }) => {
      const pod = await play(await deployment("classic-sidecar", "awsCliApp"));
      assert.equal(pod.startFailure, undefined, await pod.logs("certrole"));
      assert.deepEqual(pod.adapted.order, ["certrole", "app"]);
      assert.ok(pod.adapted.postStart.certrole, "the manifest gives the sidecar a postStart hook (playPod runs it)");
      const calls = await waitForCalls("two calls", 60, () => pod.logs("app"), (calls) => calls.length >= 2);
      assert.ok(calls.every((call) => call.ok), calls.map((call) => call.line).join("\n"));
      assert.equal(calls[0].line, `ok buckets=${BUCKET}`, "the first call already had credentials");
      assert.ok(await pod.ready());
      assert.equal(issuedSessions(emulator.walkthrough.sessionLog).length, 1);
    }),
);
