/**
 * Certificate rotation in a pod, the way the kubelet (Secret volumes) and cert-manager's
 * csi-driver renew a mounted certificate: a new certificate with a new serial written into a
 * fresh directory and the `..data` symlink swapped atomically. The pod plays the native sidecar
 * Deployment with its certificate from the csi-driver (deploy/'s csi patch), the boto3
 * application calling S3 every second: no call fails before, during or after the swap, the
 * emulator's CreateSession log shows the new serial within seconds, and the application's calls
 * then use the credentials issued to the new certificate. Prints the rotation latency.
 */
import assert from "node:assert/strict";
import { callLines, DEPLOY_TESTS_SKIPPED, POLL_MS, waitForCalls, withPod } from "./support/deploy.ts";
import { issuedSessions } from "./support/emulator.ts";
import { openssl, waitFor } from "./support/run.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

async function decimalSerial(certificate: string): Promise<string> {
  const hex = (await openssl(["x509", "-in", certificate, "-noout", "-serial"])).trim().replace(/^serial=/, "");
  return BigInt(`0x${hex}`).toString();
}

Deno.test(
  { name: "certificate rotation: a ..data swap is used within seconds, no call fails", ignore },
  () =>
    withPod(
      { leaf: (pki) => pki.issue("first") },
      async ({ pki, emulator, leaf: first, deployment, play, project }) => {
        const second = await pki.issue("second");
        const [firstSerial, secondSerial] = [await decimalSerial(first.cert), await decimalSerial(second.cert)];
        assert.notEqual(firstSerial, secondSerial);
        const pod = await play(await deployment("native-sidecar", "boto3App", { csi: true }));
        assert.equal(pod.startFailure, undefined, await pod.logs("certrole"));
        const log = () => pod.logs("app");
        const [{ key: firstKey }] = await waitForCalls("three calls", 60, log, (calls) => calls.length >= 3);

        const swapped = Date.now();
        await project(second);
        const sessions = () => issuedSessions(emulator.walkthrough.sessionLog);
        const rotated = await waitFor(
          () => sessions().find((entry) => entry.certificate.serial === secondSerial),
          15_000,
          "a CreateSession with the new serial",
          POLL_MS,
        );
        const latencyMs = Date.parse(rotated.time) - swapped;
        const callsAtSwap = callLines(await log()).length;
        await waitForCalls(
          "calls with the new certificate's credentials",
          30,
          log,
          (calls) => calls.slice(callsAtSwap).some((call) => call.key === rotated.accessKeyId),
        );
        const all = await waitForCalls("three more calls", 30, log, (calls) => calls.length >= callsAtSwap + 3);
        assert.deepEqual(all.filter((call) => !call.ok).map((call) => call.line), [], "no call failed");
        assert.equal(sessions()[0].certificate.serial, firstSerial);
        assert.notEqual(firstKey, rotated.accessKeyId);
        assert.ok(latencyMs < 10_000, `the new serial reached CreateSession ${latencyMs} ms after the swap`);
        assert.match(await pod.logs("certrole"), /rotat/i, "serve logged the rotation");
        console.log(
          `rotation: new serial at CreateSession ${latencyMs} ms after the ..data swap; ` +
            `${all.length} calls, ${all.length - callsAtSwap} after the swap, none failed`,
        );
      },
    ),
);
