/**
 * `podman kube down` stops every container of each Kubernetes pattern's pod within a few seconds:
 * each exits on SIGTERM (its exit status, from podman's events, is not 137, the SIGKILL podman
 * sends after the 10 s stop timeout), serve and exec --supervise included. Prints the times.
 */
import assert from "node:assert/strict";
import {
  callLines,
  certificateFiles,
  DEPLOY_TESTS_SKIPPED,
  type DeployImages,
  deployImages,
  eventually,
  freePort,
  makeDeployPki,
  startDeployWalkthrough,
} from "./support/deploy.ts";
import { writeProjection } from "./support/atomic_writer.ts";
import { podmanOk } from "./support/images.ts";
import { type PlayedPod, playPod, removePod } from "./support/kube_play.ts";
import { loadManifests } from "./support/kubernetes_manifests.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

const PATTERNS: { pattern: string; app: keyof DeployImages }[] = [
  { pattern: "native-sidecar", app: "boto3App" },
  { pattern: "classic-sidecar", app: "awsCliApp" },
  { pattern: "single-container", app: "supervisedApp" },
];

for (const { pattern, app } of PATTERNS) {
  Deno.test({ name: `pod stop: podman kube down stops the ${pattern} pod within seconds`, ignore }, async () => {
    const images = await deployImages();
    const pki = await makeDeployPki();
    const certificateDir = `${pki.dir}/certificate`;
    await writeProjection(certificateDir, await certificateFiles(pki, await pki.issue("app")), { uid: 65532 });
    const emulator = await startDeployWalkthrough(pki);
    let pod: PlayedPod | undefined;
    try {
      const [deployment] = await loadManifests(`kubernetes/${pattern}/deployment.yaml`, {
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
      await eventually("a call", 60, async () => callLines(await pod!.logs("app")).length >= 1);
      const since = new Date(Date.now() - 1000).toISOString();
      const { elapsedMs } = await pod.down();
      const events = await podmanOk([
        ...["events", "--stream=false", "--since", since, "--filter", "event=died"],
        ...["--format", "{{.Name}} {{.ContainerExitCode}}"],
      ]);
      const died = Object.fromEntries(events.trim().split("\n").map((line) => line.split(" ")));
      const exits = pod.adapted.order.map((container) => [container, died[pod!.containerName(container)]]);
      for (const [container, code] of exits) {
        assert.ok(code !== undefined, `${container} died (podman events: ${events})`);
        assert.notEqual(code, "137", `${container} was killed after the stop timeout`);
      }
      assert.ok(elapsedMs < 9000, `kube down took ${elapsedMs} ms`);
      pod = undefined;
      console.log(
        `${pattern}: kube down ${Math.round(elapsedMs)} ms; exit codes ${
          exits.map((pair) => pair.join(" ")).join(", ")
        }`,
      );
    } finally {
      await removePod(pod);
      await emulator.close();
    }
  });
}
