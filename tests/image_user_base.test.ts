/**
 * What `certrole image dockerfile` prints builds: for the aws-cli runtime on a local Debian base
 * with Debian's AWS CLI (standing in for a team's own base), built with podman in certrole's
 * source tree, the walkthrough's `run` line lists the buckets through the emulator, a certificate
 * with another CN is refused, and the image runs as 65532 with the runtime's STOPSIGNAL.
 */
import assert from "node:assert/strict";
import { LOCAL_BASES, LOCAL_DENO_BUILDER } from "../scripts/local_images.ts";
import {
  buildFixture,
  ensureDebian,
  IMAGE_TESTS_SKIPPED,
  makeImagePki,
  podman,
  podmanOk,
  testImage,
  withWalkthrough,
} from "./support/images.ts";
import { certrole, ROOT, tempDir } from "./support/run.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined;

Deno.test(
  { name: "image dockerfile --runtime aws-cli on your base: builds, runs the walkthrough", ignore },
  async () => {
    await ensureDebian(console.log);
    const base = await buildFixture(LOCAL_BASES["aws-cli"]);
    const builder = await buildFixture(LOCAL_DENO_BUILDER);
    const printed = await certrole(["image", "dockerfile", "--base", base, "--runtime", "aws-cli"], { cwd: ROOT });
    assert.equal(printed.code, 0, printed.stderr);
    const dockerfile = `${await tempDir()}/Dockerfile.certrole`;
    await Deno.writeTextFile(dockerfile, printed.stdout);
    const image = testImage("user-base-aws-cli");
    await podmanOk([
      "build",
      ...["--pull=never", "--network", "host", "--layers"],
      ...["--build-arg", `DENO_IMAGE=${builder}`, "-f", dockerfile, "-t", image],
      ROOT,
    ]);
    const config = JSON.parse(await podmanOk(["image", "inspect", "--format", "{{json .Config}}", image]));
    assert.equal(config.User, "65532:65532");
    assert.equal(config.StopSignal, "SIGTERM");
    assert.deepEqual(config.Entrypoint, ["/usr/local/bin/certrole", "exec", "--supervise", "--", "aws"]);

    const pki = await makeImagePki();
    await withWalkthrough(pki, async (walkthrough) => {
      const listed = await podman(
        ["run", "--rm", ...walkthrough.runArgs(), image, "s3", "ls", "--endpoint-url", walkthrough.endpoint],
        { env: walkthrough.secretEnv() },
      );
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /walkthrough-bucket/);
      const refused = await podman(
        ["run", "--rm", ...walkthrough.runArgs("stranger"), image, "s3", "ls", "--endpoint-url", walkthrough.endpoint],
        { env: walkthrough.secretEnv("stranger") },
      );
      assert.match(refused.stderr, /AccessDeniedException/);
      assert.notEqual(refused.code, 0);
    });
  },
);
