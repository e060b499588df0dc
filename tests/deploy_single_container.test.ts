/**
 * deploy/kubernetes/single-container/deployment.yaml on podman: one container, FROM the
 * certrole-python image, with ROLESANYWHERE_SUPERVISE=true: certrole exec --supervise is PID 1,
 * the boto3 application (not PID 1) lists the buckets with the credentials it serves, and the
 * key's passphrase variables never reach the application.
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
import { podman, topOf } from "./support/images.ts";
import { type PlayedPod, playPod, removePod } from "./support/kube_play.ts";
import { loadManifests } from "./support/kubernetes_manifests.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

Deno.test(
  { name: "single container: exec --supervise is PID 1 and the application lists the buckets", ignore },
  async () => {
    const images = await deployImages();
    const pki = await makeDeployPki();
    const certificateDir = `${pki.dir}/certificate`;
    await writeProjection(certificateDir, await certificateFiles(pki, await pki.issue("app")), { uid: 65532 });
    const emulator = await startDeployWalkthrough(pki);
    let pod: PlayedPod | undefined;
    try {
      const [deployment] = await loadManifests("kubernetes/single-container/deployment.yaml", {
        APP_IMAGE: images.supervisedApp,
        AWS_REGION: "us-east-1",
      });
      pod = await playPod({
        deployment,
        configMaps: [emulator.configMap],
        certificateDir,
        appEnv: emulator.appEnv,
        port: freePort(),
      });
      await eventually("two calls", 60, async () => callLines(await pod!.logs("app")).length >= 2);
      const calls = callLines(await pod.logs("app"));
      assert.ok(calls.every((call) => call.ok), (await pod.logs("app")).slice(-3000));
      assert.match(calls[0].line, new RegExp(`buckets=${BUCKET}$`));
      const processes = await topOf(pod.containerName("app"));
      const pid1 = processes.find(([pid]) => pid === "1");
      assert.match(pid1?.[2] ?? "", /deno|certrole/, JSON.stringify(processes));
      assert.ok(processes.some(([pid, , args]) => pid !== "1" && /python3 \/app\/app\.py/.test(args)));
      assert.ok(await pod.ready());
      assert.equal(issuedSessions(emulator.walkthrough.sessionLog).length, 1);
      const status = await podman(["exec", pod.containerName("app"), "cat", "/proc/1/status"]);
      const rss = Number(status.stdout.match(/VmRSS:\s+(\d+) kB/)?.[1]);
      const anon = Number(status.stdout.match(/RssAnon:\s+(\d+) kB/)?.[1]);
      console.log(
        `exec --supervise (PID 1) in the pod: RSS ${Math.round(rss / 1024)} MiB, ${
          Math.round(anon / 1024)
        } MiB private`,
      );
    } finally {
      await removePod(pod);
      await emulator.close();
    }
  },
);
