/**
 * deploy/kubernetes/native-sidecar/deployment.yaml, played with podman kube play (the nearest
 * equivalent of a native sidecar podman 4.3 runs: kube_play.ts starts the sidecar first and the
 * application once its startup probe passes) against the emulator: a boto3 application lists the
 * buckets with credentials from the sidecar, and so does the AWS CLI; the pod is ready; one
 * CreateSession serves the application's every call. serve's private memory stays far below its
 * 128 MiB limit (a read-only Deno cache would triple it: the manifest gives it a writable one).
 * Prints serve's RSS in the pod.
 */
import assert from "node:assert/strict";
import { BUCKET, DEPLOY_TESTS_SKIPPED, waitForCalls, withPod } from "./support/deploy.ts";
import { issuedSessions } from "./support/emulator.ts";
import { pid1Memory } from "./support/images.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

for (const app of ["boto3App", "awsCliApp"] as const) {
  Deno.test({
    name: `native sidecar: the ${app === "boto3App" ? "boto3" : "AWS CLI"} application lists the buckets`,
    ignore,
  }, () =>
    withPod({}, async ({ emulator, deployment, play }) => {
      const pod = await play(await deployment("native-sidecar", app));
      assert.equal(pod.startFailure, undefined, await pod.logs("certrole"));
      const calls = await waitForCalls(
        "a successful call",
        60,
        () => pod.logs("app"),
        (calls) => calls.some((call) => call.ok),
      );
      assert.ok(calls.every((call) => call.ok), calls.map((call) => call.line).join("\n"));
      assert.match(calls[0].line, new RegExp(`buckets=${BUCKET}`));
      assert.ok(await pod.ready(), "every container runs and the sidecar's readiness probe passes");
      assert.equal(issuedSessions(emulator.walkthrough.sessionLog).length, 1, "one CreateSession for every call");
      const { rssKiB, anonKiB } = await pid1Memory(pod.containerName("certrole"));
      assert.ok(anonKiB < 48 * 1024, `serve's private memory ${anonKiB} kB: is Deno's code cache writable?`);
      console.log(`serve in the pod: RSS ${Math.round(rssKiB / 1024)} MiB, ${Math.round(anonKiB / 1024)} MiB private`);
    }));
}
