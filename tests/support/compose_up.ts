/**
 * Runs deploy/compose/compose.yaml as shipped, with docker-compose 1.29 (Debian's) against
 * `podman system service`, in a project directory holding what its header says to create
 * (bucket-lister.env, certificate/, secrets/certrole-token). The test's differences are a Compose
 * override file (`-f compose.yaml -f override.yaml`, Compose's own mechanism), derived from the
 * shipped file: certrole on the host's network (the emulator listens on the host's loopback; the
 * applications join certrole's namespace as shipped), serve's port 9911 replaced by a free one
 * wherever the file names it (the host's loopback is shared), and the emulator's S3 endpoint for
 * the applications. Podman runs healthchecks from systemd timers, which our hosts lack, so this
 * module runs `podman healthcheck run` every second meanwhile: that is what turns certrole
 * healthy and lets `depends_on: condition: service_healthy` start the applications.
 */
import { parse, stringify } from "yaml";
import { podman, startPodmanService } from "./images.ts";
import { DEPLOY, type Manifest } from "./kubernetes_manifests.ts";
import { replacePort } from "./kube_play.ts";
import { run, type RunResult } from "./run.ts";

export interface ComposeProject {
  logs(service: string): Promise<string>;
  /** podman's name of a service's container. */
  container(service: string): string;
  down(): Promise<void>;
}

/** The override file's content (pure): see the module comment. */
export function composeOverride(shipped: Manifest, port: number, appEnv: Record<string, string>): Manifest {
  const services: Manifest = {};
  for (const [name, service] of Object.entries(shipped.services as Record<string, Manifest>)) {
    if (name === "certrole") {
      services[name] = {
        network_mode: "host",
        command: replacePort(service.command, port),
        healthcheck: { test: replacePort(service.healthcheck.test, port) },
      };
    } else {
      services[name] = { environment: { ...replacePort(service.environment, port), ...appEnv } };
    }
  }
  return { services };
}

export async function composeUp(options: {
  readonly projectDir: string;
  readonly env: Record<string, string>;
  readonly port: number;
  readonly appEnv: Record<string, string>;
}): Promise<ComposeProject> {
  const name = `certrole-test-${crypto.randomUUID().slice(0, 8)}`;
  const shippedPath = `${DEPLOY}/compose/compose.yaml`;
  const shipped = parse(await Deno.readTextFile(shippedPath)) as Manifest;
  const override = `${options.projectDir}/override.yaml`;
  await Deno.writeTextFile(override, stringify(composeOverride(shipped, options.port, options.appEnv)));
  const service = await startPodmanService();
  const compose = (args: string[]): Promise<RunResult> =>
    run("docker-compose", [
      ...["-p", name, "--project-directory", options.projectDir, "-f", shippedPath, "-f", override],
      ...args,
    ], { env: { ...service.env, ...options.env }, cwd: options.projectDir });
  const container = (service: string) => `${name}_${service}_1`;
  const up = compose(["up", "-d", "--no-build"]);
  let finished = false;
  up.finally(() => finished = true);
  // The health timer podman lacks here: until `up` returns (it waits for certrole to be healthy).
  while (!finished) {
    await podman(["healthcheck", "run", container("certrole")]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const result = await up;
  const project: ComposeProject = {
    container,
    async logs(service) {
      const logs = await podman(["logs", container(service)]);
      return logs.stdout + logs.stderr;
    },
    async down() {
      // docker-compose removes the services in parallel and podman refuses to remove a container
      // whose namespace another still uses: a second `down` removes what the first left.
      await compose(["down", "-t", "10"]);
      await compose(["down", "-t", "0"]);
      const left = await podman(["ps", "-aq", "--filter", `label=com.docker.compose.project=${name}`]);
      for (const id of left.stdout.trim().split("\n").filter(Boolean)) await podman(["rm", "-f", id]);
      await service.stop();
    },
  };
  if (result.code !== 0) {
    const certrole = await project.logs("certrole").catch(() => "");
    await project.down();
    throw new Error(`docker-compose up failed:\n${result.stdout}\n${result.stderr}\ncertrole's log:\n${certrole}`);
  }
  return project;
}
