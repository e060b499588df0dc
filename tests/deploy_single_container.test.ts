/**
 * deploy/kubernetes/single-container/deployment.yaml on podman: one container, FROM the
 * certrole-python image, with ROLESANYWHERE_SUPERVISE=true: certrole exec --supervise is PID 1,
 * and the boto3 application (not PID 1) lists the buckets with the credentials it serves. (The
 * pod's key, as cert-manager issues it, has no passphrase: tests/exec_supervise.test.ts proves
 * that the passphrase variables never reach the application.)
 */
import assert from "node:assert/strict";
import { BUCKET, callLines, DEPLOY_TESTS_SKIPPED, POLL_MS, withPod } from "./support/deploy.ts";
import { issuedSessions } from "./support/emulator.ts";
import { pid1Memory, topOf } from "./support/images.ts";
import { waitFor } from "./support/run.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

Deno.test(
  { name: "single container: exec --supervise is PID 1 and the application lists the buckets", ignore },
  () =>
    withPod({}, async ({ emulator, deployment, play }) => {
      const pod = await play(await deployment("single-container", "supervisedApp"));
      const log = await waitFor(
        async () => {
          const log = await pod.logs("app");
          return callLines(log).length >= 2 ? log : undefined;
        },
        60_000,
        "two calls",
        POLL_MS,
      );
      const calls = callLines(log);
      assert.ok(calls.every((call) => call.ok), log.slice(-3000));
      assert.match(calls[0].line, new RegExp(`buckets=${BUCKET}$`));
      const processes = await topOf(pod.containerName("app"));
      const pid1 = processes.find(([pid]) => pid === "1");
      assert.match(pid1?.[2] ?? "", /deno|certrole/, JSON.stringify(processes));
      assert.ok(processes.some(([pid, , args]) => pid !== "1" && /python3 \/app\/app\.py/.test(args)));
      assert.ok(await pod.ready());
      assert.equal(issuedSessions(emulator.walkthrough.sessionLog).length, 1);
      const { rssKiB, anonKiB } = await pid1Memory(pod.containerName("app"));
      console.log(
        `exec --supervise (PID 1) in the pod: RSS ${Math.round(rssKiB / 1024)} MiB, ${
          Math.round(anonKiB / 1024)
        } MiB private`,
      );
    }),
);
