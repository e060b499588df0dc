/**
 * Each Kubernetes pattern's pod stops within a few seconds, every container on SIGTERM, as the
 * kubelet stops a pod (SIGTERM, then SIGKILL after terminationGracePeriodSeconds), and
 * `podman kube down` then removes it. podman 4.3's kube down alone sends SIGKILL at once
 * (measured: every container dies with 137 within 50 ms), which would prove nothing about
 * shutdown, so the kubelet's step is `podman pod stop -t GRACE` first: no container may end with
 * 137 (killed after the grace period). serve and exec --supervise included. Prints the times.
 */
import assert from "node:assert/strict";
import { DEPLOY_TESTS_SKIPPED, type DeployImages, waitForCalls, withPod } from "./support/deploy.ts";
import { exitCodeOf, podmanOk } from "./support/images.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

const PATTERNS: { pattern: string; app: keyof DeployImages }[] = [
  { pattern: "native-sidecar", app: "boto3App" },
  { pattern: "classic-sidecar", app: "awsCliApp" },
  { pattern: "single-container", app: "supervisedApp" },
];

for (const { pattern, app } of PATTERNS) {
  Deno.test(
    { name: `pod stop: the ${pattern} pod stops on SIGTERM within seconds, then kube down`, ignore },
    () =>
      withPod({}, async (test) => {
        const deployment = await test.deployment(pattern, app);
        const pod = await test.play(deployment);
        await waitForCalls("a call", 60, () => pod.logs("app"), (calls) => calls.length >= 1);
        const grace = String(deployment.spec.template.spec.terminationGracePeriodSeconds);
        const stopping = performance.now();
        await podmanOk(["pod", "stop", "-t", grace, pod.adapted.podName]);
        const stopMs = performance.now() - stopping;
        const exits: [string, number][] = [];
        for (const container of pod.adapted.order) {
          exits.push([container, await exitCodeOf(pod.containerName(container))]);
        }
        const { elapsedMs } = await pod.down();
        for (const [container, code] of exits) {
          assert.notEqual(code, 137, `${container} was killed after the ${grace} s grace period`);
        }
        assert.ok(stopMs < Number(grace) * 1000, `the pod took ${stopMs} ms to stop`);
        assert.ok(elapsedMs < 9000, `kube down took ${elapsedMs} ms`);
        console.log(
          `${pattern}: stopped on SIGTERM in ${Math.round(stopMs)} ms (exit codes ${
            exits.map((pair) => pair.join(" ")).join(", ")
          }), then kube down ${Math.round(elapsedMs)} ms`,
        );
      }),
  );
}
