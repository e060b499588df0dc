/**
 * The aws-cli image, built in bundle mode from images/aws-cli/Dockerfile on a local Debian+awscli
 * base, run with the walkthrough's `docker run` line against the emulator on the host: it lists
 * the buckets, the role's missing EC2 permission gives UnauthorizedOperation with the AWS CLI's
 * exit code, a certificate with another CN is refused with AccessDeniedException before the CLI
 * starts, the CLI runs under a non-root user as the child of certrole (PID 1, `exec --supervise`),
 * and `podman stop` ends it by SIGTERM instead of a SIGKILL after the timeout.
 */
import assert from "node:assert/strict";
import {
  buildVariant,
  containerName,
  ensureDebian,
  exitCodeOf,
  IMAGE_TESTS_SKIPPED,
  type ImagePki,
  makeImagePki,
  podman,
  podmanOk,
  silentServer,
  topOf,
  waitForPid1,
  within,
  withWalkthrough,
} from "./support/images.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined;
let prepared: Promise<{ image: string; pki: ImagePki }> | undefined;
function prepare() {
  prepared ??= (async () => {
    await ensureDebian(console.log);
    return { image: await buildVariant("aws-cli"), pki: await makeImagePki() };
  })();
  return prepared;
}

Deno.test({ name: "aws-cli image: s3 ls lists the buckets", ignore }, async () => {
  const { image, pki } = await prepare();
  await withWalkthrough(pki, async (walkthrough) => {
    const result = await podman(
      ["run", "--rm", ...walkthrough.runArgs(), image, "s3", "ls", "--endpoint-url", walkthrough.endpoint],
      { env: walkthrough.secretEnv() },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /2024-01-02 \d\d:04:05 walkthrough-bucket/);
  });
});

Deno.test(
  { name: "aws-cli image: ec2 describe-instances is UnauthorizedOperation, exit code 254", ignore },
  async () => {
    const { image, pki } = await prepare();
    await withWalkthrough(pki, async (walkthrough) => {
      const result = await podman([
        "run",
        "--rm",
        ...walkthrough.runArgs(),
        image,
        ...["ec2", "describe-instances", "--region", "us-east-1", "--endpoint-url", walkthrough.endpoint],
      ], { env: walkthrough.secretEnv() });
      assert.match(result.stderr, /UnauthorizedOperation/);
      assert.equal(result.code, 254, "the AWS CLI's exit code for a service error, passed through");
    });
  },
);

Deno.test({ name: "aws-cli image: a certificate with another CN gets AccessDeniedException", ignore }, async () => {
  const { image, pki } = await prepare();
  await withWalkthrough(pki, async (walkthrough) => {
    const result = await podman(
      ["run", "--rm", ...walkthrough.runArgs("stranger"), image, "s3", "ls", "--endpoint-url", walkthrough.endpoint],
      { env: walkthrough.secretEnv("stranger") },
    );
    assert.match(result.stderr, /AccessDeniedException/);
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, "", "the CLI never ran");
  });
});

Deno.test(
  { name: "aws-cli image: certrole supervises the CLI as 65532, and podman stop ends it by SIGTERM", ignore },
  async () => {
    const { image, pki } = await prepare();
    await withWalkthrough(pki, async (walkthrough) => {
      const silent = silentServer();
      const name = containerName("aws-cli-stop");
      try {
        await podman([
          "run",
          "-d",
          "--name",
          name,
          ...walkthrough.runArgs(),
          image,
          ...["s3", "ls", "--endpoint-url", `http://127.0.0.1:${silent.port}`, "--cli-read-timeout", "0"],
        ], { env: walkthrough.secretEnv() });
        await within(60, "the AWS CLI connecting to the silent server", silent.connected);
        const [, user, args] = await waitForPid1(name, /certrole.* exec --supervise -- aws s3 ls/);
        assert.match(args, /exec --supervise -- aws s3 ls/, "PID 1 is certrole, supervising the CLI");
        assert.equal(user, "65532");
        const cli = (await topOf(name)).find((row) => row[0] !== "1" && /aws s3 ls/.test(row[2]));
        assert.ok(cli, "the AWS CLI runs as certrole's child");
        assert.equal(cli[1], "65532");
        await podmanOk(["stop", "--time", "30", name]);
        assert.equal(
          await exitCodeOf(name),
          143,
          "the CLI ended by SIGTERM's default action, not SIGKILL after the timeout (137)",
        );
      } finally {
        silent.close();
        await podman(["rm", "-f", name]);
      }
    });
  },
);
