/**
 * Certificate rotation under `certrole serve`, the way Kubernetes secret volumes (and
 * cert-manager's csi-driver) replace files: new files in a new timestamped folder, then the
 * `..data` symlink swapped atomically. The emulator's CreateSession log shows the new
 * certificate's serial within seconds and clients get the new credentials; a replacement that
 * fails the local checks (a key that does not match) is logged once and the current credentials
 * stay served, with no CreateSession for it.
 */
import assert from "node:assert/strict";
import { issuedSessions, sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, type Leaf, makeCa } from "./support/pki.ts";
import { run, tempDir, waitFor } from "./support/run.ts";
import { spawnServe } from "./support/serve.ts";

async function serialOf(cert: string): Promise<string> {
  const { stdout } = await run("openssl", ["x509", "-in", cert, "-noout", "-serial"]);
  return BigInt(`0x${stdout.trim().split("=")[1]}`).toString();
}

/** A Kubernetes-style secret volume: `tls.crt -> ..data/tls.crt`, `..data -> ..TIMESTAMP`. */
class SecretVolume {
  #generation = 0;
  constructor(readonly dir: string) {}

  async publish(cert: string, key: string): Promise<void> {
    const folder = `..2024_01_01_00_00_0${this.#generation++}`;
    await Deno.mkdir(`${this.dir}/${folder}`, { recursive: true });
    await Deno.copyFile(cert, `${this.dir}/${folder}/tls.crt`);
    await Deno.copyFile(key, `${this.dir}/${folder}/tls.key`);
    await Deno.symlink(folder, `${this.dir}/..data_tmp`);
    await Deno.rename(`${this.dir}/..data_tmp`, `${this.dir}/..data`); // the atomic swap
    for (const name of ["tls.crt", "tls.key"]) {
      await Deno.symlink(`..data/${name}`, `${this.dir}/${name}`).catch(() => {});
    }
  }

  leaf(passphrase: string | undefined): Leaf {
    return { cert: `${this.dir}/tls.crt`, key: `${this.dir}/tls.key`, passphrase };
  }
}

Deno.test("a ..data symlink swap takes effect within seconds; a bad replacement is refused and logged", async () => {
  const dir = await tempDir("certrole-serve-rotation-");
  const ca = await makeCa(dir);
  const [first, second, third] = [
    await issueLeaf(ca, "first"),
    await issueLeaf(ca, "second"),
    await issueLeaf(ca, "third"),
  ];
  const volume = new SecretVolume(`${dir}/secret`);
  await volume.publish(first.cert, first.key);
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const serve = await spawnServe(["--port", "0", "--token-file", `${dir}/token`], {
    HOME: dir,
    ...sessionEnv(walkthrough, volume.leaf(first.passphrase)),
  });
  try {
    const token = await Deno.readTextFile(`${dir}/token`);
    const servedKey = async () =>
      (await (await fetch(serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI, { headers: { Authorization: token } }))
        .json()).AccessKeyId;
    const serials = () => issuedSessions(walkthrough.sessionLog).map((entry) => entry.certificate.serial);
    assert.deepEqual(serials(), [await serialOf(first.cert)]);
    const before = await servedKey();

    const swapped = performance.now();
    await volume.publish(second.cert, second.key);
    const secondSerial = await serialOf(second.cert);
    await waitFor(() => serials().includes(secondSerial) || undefined, 10_000, "a session for the new certificate");
    const seconds = (performance.now() - swapped) / 1000;
    assert.ok(seconds < 10, `took ${seconds} s`);
    await serve.waitForLog(new RegExp(`rotation: certificate serial \\d+ replaced by serial ${secondSerial}`));
    await serve.waitForLog(/refreshed \(certificate rotated\)/);
    const rotatedKey = await servedKey();
    assert.notEqual(rotatedKey, before);
    assert.equal(walkthrough.emulator.state.sessions[rotatedKey].certificateSerial, secondSerial);

    // The third certificate with the second's key: fails the key-matches-certificate check.
    await volume.publish(third.cert, second.key);
    await serve.waitForLog(
      /rotation: the new certificate\/key files are refused \(.*\); still using certificate serial/,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500)); // more polls: logged once, never sent
    assert.equal(serve.output().stderr.split("\n").filter((line) => line.includes("are refused")).length, 1);
    assert.ok(!serials().includes(await serialOf(third.cert)), "no CreateSession with the refused certificate");
    assert.equal(await servedKey(), rotatedKey, "the current credentials stay served");
  } finally {
    await serve.stop();
    await walkthrough.emulator.close();
  }
});
