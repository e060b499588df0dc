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
import {
  callLines,
  certificateFiles,
  DEPLOY_TESTS_SKIPPED,
  deployImages,
  eventually,
  freePort,
  makeDeployPki,
  startDeployWalkthrough,
} from "./support/deploy.ts";
import { writeProjection } from "./support/atomic_writer.ts";
import { signedCreateSession } from "./support/create_session.ts";
import { podmanOk } from "./support/images.ts";
import { type PlayedPod, playPod, removePod } from "./support/kube_play.ts";
import { loadManifests } from "./support/kubernetes_manifests.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

Deno.test(
  { name: "throttled start: the sidecar retries a throttled first CreateSession and becomes ready", ignore },
  async () => {
    const images = await deployImages();
    const pki = await makeDeployPki();
    const certificateDir = `${pki.dir}/certificate`;
    await writeProjection(certificateDir, await certificateFiles(pki, await pki.issue("app")), { uid: 65532 });
    const emulator = await startDeployWalkthrough(pki, { throttleTps: 0.2, throttleScope: "account" });
    let pod: PlayedPod | undefined;
    try {
      const [deployment] = await loadManifests("kubernetes/native-sidecar/deployment.yaml", {
        CERTROLE_IMAGE: images.sidecar,
        APP_IMAGE: images.boto3App,
        AWS_REGION: "us-east-1",
      });
      const other = await pki.issue("another-pod");
      assert.equal((await signedCreateSession(emulator.walkthrough, other)).status, 201, "another pod takes the quota");
      pod = await playPod({
        deployment,
        configMaps: [emulator.configMap],
        certificateDir,
        appEnv: emulator.appEnv,
        port: freePort(),
      });
      assert.equal(pod.startFailure, undefined, await pod.logs("certrole"));
      const outcomes = emulator.walkthrough.sessionLog.slice(1).map((entry) => entry.outcome);
      assert.ok(outcomes.includes("ThrottlingException"), `the sidecar was throttled first: ${outcomes}`);
      assert.equal(outcomes.at(-1), "issued");
      const restarts = await podmanOk(["inspect", "--format", "{{.RestartCount}}", pod.containerName("certrole")]);
      assert.equal(restarts.trim(), "0", "serve kept retrying instead of exiting into a restart (CrashLoopBackOff)");
      await eventually("a call", 60, async () => callLines(await pod!.logs("app")).some((call) => call.ok));
      console.log(`throttled start: ${outcomes.length - 1} throttled attempt(s), then issued`);
    } finally {
      await removePod(pod);
      await emulator.close();
    }
  },
);
