/**
 * deploy/kubernetes/classic-sidecar/deployment.yaml (clusters before 1.29) on podman: serve is the
 * pod's first container and its postStart hook holds the application back until serve holds
 * credentials (kube_play.ts runs the hook between the two starts, as the kubelet does). The AWS
 * CLI application then lists the buckets from its first call, and the pod is ready.
 */
import assert from "node:assert/strict";
import {
  BUCKET,
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
import { issuedSessions } from "./support/emulator.ts";
import { type PlayedPod, playPod, removePod } from "./support/kube_play.ts";
import { loadManifests } from "./support/kubernetes_manifests.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

Deno.test(
  { name: "classic sidecar: postStart holds the AWS CLI application until credentials are held", ignore },
  async () => {
    const images = await deployImages();
    const pki = await makeDeployPki();
    const certificateDir = `${pki.dir}/certificate`;
    await writeProjection(certificateDir, await certificateFiles(pki, await pki.issue("app")), { uid: 65532 });
    const emulator = await startDeployWalkthrough(pki);
    let pod: PlayedPod | undefined;
    try {
      const [deployment] = await loadManifests("kubernetes/classic-sidecar/deployment.yaml", {
        CERTROLE_IMAGE: images.sidecar,
        APP_IMAGE: images.awsCliApp,
        AWS_REGION: "us-east-1",
      });
      pod = await playPod({
        deployment,
        configMaps: [emulator.configMap],
        certificateDir,
        appEnv: emulator.appEnv,
        port: freePort(),
      });
      assert.equal(pod.startFailure, undefined, await pod.logs("certrole"));
      assert.deepEqual(pod.adapted.order, ["certrole", "app"]);
      assert.ok(pod.adapted.postStart.certrole, "the sidecar's postStart hook ran before the application started");
      await eventually("two calls", 60, async () => callLines(await pod!.logs("app")).length >= 2);
      const calls = callLines(await pod.logs("app"));
      assert.ok(calls.every((call) => call.ok), calls.map((call) => call.line).join("\n"));
      assert.equal(calls[0].line, `ok buckets=${BUCKET}`, "the first call already had credentials");
      assert.ok(await pod.ready());
      assert.equal(issuedSessions(emulator.walkthrough.sessionLog).length, 1);
    } finally {
      await removePod(pod);
      await emulator.close();
    }
  },
);
