/**
 * The docker CLI, against `podman system service`: `make images --engine docker` builds the aws-cli
 * variant (steps shown, size reported), and the walkthrough's `docker run` line on it lists the
 * buckets, while `docker stop` ends a running CLI by the image's STOPSIGNAL (SIGTERM, which certrole
 * forwards to the CLI: exit 143, not 137).
 */
import assert from "node:assert/strict";
import {
  buildFixture,
  containerName,
  dockerCliInstalled,
  ensureDebian,
  exitCodeOf,
  IMAGE_TESTS_SKIPPED,
  makeImagePki,
  silentServer,
  startPodmanService,
  TEST_TAG,
  waitForPid1,
  within,
  withWalkthrough,
} from "./support/images.ts";
import { ROOT, run } from "./support/run.ts";
import { VERSION } from "../cli/version.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined || !(await dockerCliInstalled());

Deno.test({ name: "docker CLI: make images builds, docker run and docker stop work", ignore }, async () => {
  await ensureDebian(console.log);
  const base = await buildFixture("debian-awscli");
  const builder = await buildFixture("deno-builder");
  const service = await startPodmanService();
  const docker = (args: string[], env: Record<string, string> = {}) =>
    run("docker", args, { env: { ...service.env, ...env } });
  const image = `localhost/certrole-ci/docker-cli-${TEST_TAG}-aws-cli:${VERSION}`;
  try {
    const made = await run(Deno.execPath(), [
      "run",
      "-A",
      `${ROOT}/scripts/images.ts`,
      ...["--engine", "docker", "--mode", "bundle", "--variant", "aws-cli"],
      ...["--base", `aws-cli=${base}`, "--deno-image", builder, "--network", "host"],
      ...["--tag-prefix", `localhost/certrole-ci/docker-cli-${TEST_TAG}-`],
    ], { env: service.env });
    assert.equal(made.code, 0, made.stdout + made.stderr);
    assert.match(made.stdout, /Building 1 image\(s\) with docker, BUILD_MODE=bundle/);
    assert.match(made.stdout, /\[1\/1\] aws-cli │ .*STEP \d+\/\d+: ENTRYPOINT/);
    assert.match(made.stdout, new RegExp(`${image.replaceAll(".", "\\.")} +\\d+ MB`));

    const pki = await makeImagePki();
    await withWalkthrough(pki, async (walkthrough) => {
      const listed = await docker(
        ["run", "--rm", ...walkthrough.runArgs(), image, "s3", "ls", "--endpoint-url", walkthrough.endpoint],
        walkthrough.secretEnv(),
      );
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /walkthrough-bucket/);

      const silent = silentServer();
      const name = containerName("docker-stop");
      try {
        const started = await docker([
          "run",
          "-d",
          "--name",
          name,
          ...walkthrough.runArgs(),
          image,
          ...["s3", "ls", "--endpoint-url", `http://127.0.0.1:${silent.port}`, "--cli-read-timeout", "0"],
        ], walkthrough.secretEnv());
        assert.equal(started.code, 0, started.stderr);
        await within(60, "the AWS CLI connecting to the silent server", silent.connected);
        await waitForPid1(name, /aws s3 ls/);
        const stopped = await docker(["stop", "--time", "30", name]);
        assert.equal(stopped.code, 0, stopped.stderr);
        assert.equal(await exitCodeOf(name, (args) => docker(args)), 143, "SIGTERM, not SIGKILL after the timeout");
      } finally {
        silent.close();
        await docker(["rm", "-f", name]);
      }
    });
  } finally {
    await service.stop();
  }
});
