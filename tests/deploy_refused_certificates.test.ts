/**
 * A pod whose certificate cannot authenticate does not become ready, and its sidecar's log says
 * why: a certificate whose CN the role's trust policy refuses (AccessDeniedException from
 * CreateSession) and an expired certificate (refused before any network call). The native
 * sidecar's startup probe never passes, so the application is never started, as the kubelet
 * does with a native sidecar.
 */
import assert from "node:assert/strict";
import { DEPLOY_TESTS_SKIPPED, type DeployPki, withPod } from "./support/deploy.ts";
import { podman } from "./support/images.ts";
import type { Leaf } from "./support/pki.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

const CASES: { name: string; leaf: (pki: DeployPki) => Promise<Leaf>; why: RegExp }[] = [
  {
    name: "a CN the trust policy refuses",
    leaf: (pki) => pki.issue("stranger", { cn: "someoneElse" }),
    why: /AccessDenied/,
  },
  { name: "an expired certificate", leaf: (pki) => pki.expired("expired"), why: /expired/i },
];

for (const { name, leaf, why } of CASES) {
  Deno.test(
    { name: `refused certificates: ${name}: the pod is not ready and its log says why`, ignore },
    () =>
      withPod({ leaf }, async ({ deployment, play }) => {
        const pod = await play(await deployment("native-sidecar", "boto3App"), { startupWaitSeconds: 8 });
        assert.match(pod.startFailure ?? "", /startupProbe of certrole did not pass/);
        assert.equal(await pod.ready(), false);
        const state = await podman(["inspect", "--format", "{{.State.Status}}", pod.containerName("app")]);
        assert.equal(state.stdout.trim(), "created", "the application was never started");
        const log = await pod.logs("certrole");
        assert.match(log, why);
        const reason = log.split("\n").find((line) => why.test(line))!;
        assert.doesNotMatch(log, /^\s+at /m, "one line, no stack trace");
        console.log(`sidecar's log: ${reason}`);
      }),
  );
}
