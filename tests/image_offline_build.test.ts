/**
 * `make images-offline` builds without a registry: it makes the local Debian bases and Deno build
 * image itself (debootstrap, local-bases/), passes them with an empty SDK_PACKAGES, and the image
 * it tags runs the walkthrough's `s3 ls` against the emulator.
 */
import assert from "node:assert/strict";
import { VERSION } from "../cli/version.ts";
import {
  containerEnv,
  IMAGE_TESTS_SKIPPED,
  makeImagePki,
  podman,
  TEST_TAG,
  withWalkthrough,
} from "./support/images.ts";
import { ROOT, run } from "./support/run.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined;

Deno.test(
  { name: "make images-offline builds a variant on local bases that runs the walkthrough", ignore },
  async () => {
    const made = await run("make", [
      "--no-print-directory",
      "images-offline",
      `ARGS=--variant python --tag-prefix localhost/certrole-ci/offline-${TEST_TAG}-`,
    ], { cwd: ROOT, env: await containerEnv() });
    assert.equal(made.code, 0, made.stdout + made.stderr);
    assert.match(made.stdout, /local bases: building debian-python \(local-bases\/debian-python\.Dockerfile\)/);
    assert.match(made.stdout, /Building 1 image\(s\) with podman, BUILD_MODE=bundle/);
    assert.match(made.stdout, /STEP \d+\/\d+: RUN if \[ -n "\$\{SDK_PACKAGES\}" \]/);
    assert.match(made.stdout, /export CONTAINERS_CONF=/);
    const image = `localhost/certrole-ci/offline-${TEST_TAG}-python:${VERSION}`;

    const pki = await makeImagePki();
    await withWalkthrough(pki, async (walkthrough) => {
      const listed = await podman([
        "run",
        "--rm",
        ...walkthrough.runArgs(),
        "-e",
        `AWS_ENDPOINT_URL=${walkthrough.endpoint}`,
        image,
        "python",
        "-c",
        // Debian's boto3 (1.26) predates AWS_ENDPOINT_URL: pass it explicitly.
        'import boto3, os; s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"]); ' +
        'print(*[b["Name"] for b in s3.list_buckets()["Buckets"]])',
      ], { env: walkthrough.secretEnv() });
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stdout.trim(), "walkthrough-bucket");
    });
  },
);
