/**
 * deploy/compose/compose.yaml runs with docker-compose against podman's service: one certrole
 * serve, two application containers (boto3 and the AWS CLI) sharing its network namespace and
 * the token secret, both listing the buckets from the one session serve holds (a single
 * CreateSession). The applications start only once certrole is healthy (its healthcheck, bash's
 * /dev/tcp to /healthz, run in the image).
 */
import assert from "node:assert/strict";
import {
  BUCKET,
  certificateFiles,
  DEPLOY_TESTS_SKIPPED,
  deployImages,
  freePort,
  makeDeployPki,
  startDeployWalkthrough,
  waitForCalls,
} from "./support/deploy.ts";
import { type ComposeProject, composeUp } from "./support/compose_up.ts";
import { issuedSessions } from "./support/emulator.ts";
import { podman } from "./support/images.ts";

const ignore = DEPLOY_TESTS_SKIPPED !== undefined;

Deno.test({ name: "compose: two applications share one certrole serve and one CreateSession", ignore }, async () => {
  const images = await deployImages();
  const pki = await makeDeployPki();
  const files = await certificateFiles(pki, await pki.issue("compose"));
  const emulator = await startDeployWalkthrough(pki);
  // What compose.yaml's header says to create beside it.
  const projectDir = await Deno.makeTempDir({ prefix: "certrole-compose-" });
  await Deno.chmod(projectDir, 0o755);
  await Deno.writeTextFile(`${projectDir}/bucket-lister.env`, emulator.envFile + "\n");
  await Deno.mkdir(`${projectDir}/certificate`, { mode: 0o755 });
  await Deno.writeTextFile(`${projectDir}/certificate/tls.crt`, files["tls.crt"], { mode: 0o644 });
  await Deno.writeTextFile(`${projectDir}/certificate/tls.key`, files["tls.key"]);
  await Deno.chown(`${projectDir}/certificate/tls.key`, 0, 65532);
  await Deno.chmod(`${projectDir}/certificate/tls.key`, 0o640);
  await Deno.mkdir(`${projectDir}/secrets`, { mode: 0o755 });
  const token = crypto.getRandomValues(new Uint8Array(32)).toHex();
  await Deno.writeTextFile(`${projectDir}/secrets/certrole-token`, token);
  await Deno.chown(`${projectDir}/secrets/certrole-token`, 0, 65532);
  await Deno.chmod(`${projectDir}/secrets/certrole-token`, 0o440);
  let project: ComposeProject | undefined;
  try {
    project = await composeUp({
      projectDir,
      port: freePort(),
      appEnv: emulator.appEnv,
      env: {
        CERTROLE_IMAGE: images.sidecar,
        APP_IMAGE: images.boto3App,
        SECOND_APP_IMAGE: images.awsCliApp,
        AWS_REGION: "us-east-1",
      },
    });
    for (const service of ["reports", "uploads"]) {
      const calls = await waitForCalls(
        `${service}: two calls`,
        60,
        () => project!.logs(service),
        (calls) => calls.length >= 2,
      );
      assert.ok(calls.every((call) => call.ok), `${service}:\n${calls.map((call) => call.line).join("\n")}`);
      assert.match(calls[0].line, new RegExp(`buckets=${BUCKET}`));
      const mode = await podman(["inspect", "--format", "{{.HostConfig.NetworkMode}}", project.container(service)]);
      assert.match(mode.stdout, /^container:/, `${service} joins certrole's network namespace`);
    }
    assert.equal(issuedSessions(emulator.walkthrough.sessionLog).length, 1, "one CreateSession for both");
    const health = await podman(["inspect", "--format", "{{.State.Health.Status}}", project.container("certrole")]);
    assert.equal(health.stdout.trim(), "healthy");
  } finally {
    await project?.down();
    await emulator.close();
    await Deno.remove(projectDir, { recursive: true });
  }
});
