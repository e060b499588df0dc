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
import { podman } from "./support/images.ts";
import { type PlayedPod, playPod, removePod } from "./support/kube_play.ts";
import { loadManifests } from "./support/kubernetes_manifests.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

for (const app of ["boto3App", "awsCliApp"] as const) {
  Deno.test({
    name: `native sidecar: the ${app === "boto3App" ? "boto3" : "AWS CLI"} application lists the buckets`,
    ignore,
  }, async () => {
    const images = await deployImages();
    const pki = await makeDeployPki();
    const leaf = await pki.issue("app");
    const certificateDir = `${pki.dir}/certificate`;
    await writeProjection(certificateDir, await certificateFiles(pki, leaf), { uid: 65532 });
    const emulator = await startDeployWalkthrough(pki);
    let pod: PlayedPod | undefined;
    try {
      const [deployment] = await loadManifests("kubernetes/native-sidecar/deployment.yaml", {
        CERTROLE_IMAGE: images.sidecar,
        APP_IMAGE: images[app],
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
      await eventually("a successful call", 60, async () => callLines(await pod!.logs("app")).some((call) => call.ok));
      const calls = callLines(await pod.logs("app"));
      assert.ok(calls.every((call) => call.ok), calls.map((call) => call.line).join("\n"));
      assert.match(calls[0].line, new RegExp(`buckets=${BUCKET}`));
      assert.ok(await pod.ready(), "every container runs and the sidecar's readiness probe passes");
      assert.equal(issuedSessions(emulator.walkthrough.sessionLog).length, 1, "one CreateSession for every call");
      const status = await podman(["exec", pod.containerName("certrole"), "cat", "/proc/1/status"]);
      const rss = Number(status.stdout.match(/VmRSS:\s+(\d+) kB/)?.[1]);
      const anon = Number(status.stdout.match(/RssAnon:\s+(\d+) kB/)?.[1]);
      assert.ok(anon < 48 * 1024, `serve's private memory ${anon} kB: is Deno's code cache writable?`);
      console.log(`serve in the pod: RSS ${Math.round(rss / 1024)} MiB, ${Math.round(anon / 1024)} MiB private`);
    } finally {
      await removePod(pod);
      await emulator.close();
    }
  });
}
