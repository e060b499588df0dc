/**
 * Plays a shipped Kubernetes manifest with `podman kube play` (podman 4.3, the nearest engine to
 * a kubelet our machines have), against an emulator on the host's loopback. The manifest is
 * deploy/'s own file with its placeholders filled (kubernetes_manifests.ts); what podman 4.3
 * cannot do is adapted in a copy, each adaptation listed here and in deploy/README.md, and the
 * kubelet's part that podman lacks is done by this module:
 *
 * - hostNetwork: true, so the pod reaches the emulator on the host's 127.0.0.1. The pod's own
 *   loopback is then the host's, so serve's port 9911 becomes a free port everywhere the
 *   manifest names it (serve's --listen, the probes, the application's endpoint URL). The
 *   containers' `ports` go (podman maps ports only on its own networks; with hostNetwork they
 *   only document the port anyway).
 * - the `certificate` volume (cert-manager's Secret or csi-driver volume) becomes a hostPath
 *   directory, written the way the kubelet and csi-driver write theirs (atomic_writer.ts), so a
 *   test can rotate the certificate as they do.
 * - Native sidecars: podman 4.3 runs an init container with restartPolicy: Always as a blocking
 *   init container (the pod never starts). The copy makes it the pod's first container, and this
 *   module starts it alone, runs its startupProbe until it passes (or its failureThreshold is
 *   used up), and only then starts the application: the kubelet's ordering for sidecars.
 * - Probes: podman 4.3 turns an httpGet probe into `curl` inside the container, run by systemd
 *   timers, which our hosts lack. The copy has none; this module runs each container's probes
 *   itself, from the host (the same loopback, as hostNetwork gives), with the manifest's path,
 *   port, period and thresholds.
 * - lifecycle.postStart: not in the copy; this module runs it with `podman exec` after starting
 *   the container and before starting the next, as the kubelet does.
 * - The Deployment's name gets a unique suffix (the podman storage is shared by every clone and
 *   CI run on the machine), and the application containers get extra variables (the emulator's S3
 *   endpoint, which real SDKs find by region).
 *
 * Not exercised on podman (checked structurally by deploy_manifests_schema.test.ts instead):
 * the kubelet's restart back-off, liveness-driven restarts, a sidecar outliving the application at
 * shutdown, fsGroup ownership of volumes (every container runs as 65532, so the token is readable
 * anyway), ServiceAccount, Secret and CSI volume plumbing.
 */
import { stringify } from "yaml";
import { podman, podmanOk } from "./images.ts";
import { containersOf, type Manifest, podSpec, PROBES } from "./kubernetes_manifests.ts";

export const SERVE_PORT = 9911;

export interface PlayOptions {
  /** The Deployment (placeholders filled). */
  readonly deployment: Manifest;
  /** Documents played along (the ConfigMap the manifest's envFrom names). */
  readonly configMaps: readonly Manifest[];
  /** Host directory for the `certificate` volume. */
  readonly certificateDir?: string;
  /** Variables added to the containers that are not certrole's sidecar. */
  readonly appEnv?: Readonly<Record<string, string>>;
  readonly port: number;
  /**
   * Stop waiting for a startup probe after this many seconds even if its failureThreshold allows
   * more (a test of a pod that must not become ready need not wait out failureThreshold ×
   * periodSeconds: minutes, for the shipped native sidecar).
   */
  readonly startupWaitSeconds?: number;
}

export interface Probe {
  readonly container: string;
  readonly kind: typeof PROBES[number];
  readonly definition: Manifest;
}

export interface AdaptedPod {
  /** The YAML podman plays. */
  readonly yaml: string;
  readonly podName: string;
  /** Containers in start order: native sidecars first, as the kubelet starts them. */
  readonly order: readonly string[];
  readonly probes: readonly Probe[];
  readonly postStart: Readonly<Record<string, readonly string[]>>;
}

/**
 * `value` with serve's port replaced by `port` in every string it holds: `HOST:9911` (listen
 * addresses, URLs) and `/9911` (bash's /dev/tcp/HOST/9911 in the Compose healthcheck).
 */
export function replacePort<T>(value: T, port: number): T {
  if (typeof value === "string") {
    return value.replaceAll(`:${SERVE_PORT}`, `:${port}`).replaceAll(`/${SERVE_PORT}`, `/${port}`) as T;
  }
  if (Array.isArray(value)) return value.map((item) => replacePort(item, port)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replacePort(item, port)])) as T;
  }
  return value;
}

/** The podman 4.3 copy of a Deployment (pure): see the module comment for each change. */
export function adaptForPodman(options: PlayOptions, suffix: string): AdaptedPod {
  const deployment = structuredClone(options.deployment);
  deployment.metadata.name = `${deployment.metadata.name}-${suffix}`;
  deployment.spec.replicas = 1;
  const spec = podSpec(deployment);
  spec.hostNetwork = true;
  const probes: Probe[] = [];
  const postStart: Record<string, string[]> = {};
  const sidecars: Manifest[] = [];
  const ordinaryInit: Manifest[] = [];
  for (const { container, init, sidecar } of containersOf(spec)) {
    delete container.restartPolicy;
    delete container.ports;
    if (container.args) container.args = replacePort(container.args, options.port);
    for (const kind of PROBES) {
      if (!container[kind]) continue;
      const definition = structuredClone(container[kind]);
      for (const handler of ["httpGet", "tcpSocket"]) {
        if (definition[handler]?.port === SERVE_PORT) definition[handler].port = options.port;
      }
      probes.push({ container: container.name, kind, definition });
      delete container[kind];
    }
    if (container.lifecycle?.postStart?.exec) postStart[container.name] = container.lifecycle.postStart.exec.command;
    delete container.lifecycle;
    for (const entry of container.env ?? []) {
      if (typeof entry.value === "string") entry.value = replacePort(entry.value, options.port);
    }
    const isCertrole = container.name === "certrole";
    if (!isCertrole && options.appEnv) {
      container.env = [
        ...(container.env ?? []),
        ...Object.entries(options.appEnv).map(([name, value]) => ({ name, value })),
      ];
    }
    if (init) (sidecar ? sidecars : ordinaryInit).push(container);
  }
  spec.containers = [...sidecars, ...spec.containers];
  if (ordinaryInit.length) spec.initContainers = ordinaryInit;
  else delete spec.initContainers;
  for (const volume of spec.volumes ?? []) {
    if (volume.name !== "certificate") continue;
    if (!options.certificateDir) throw new Error("the manifest mounts a certificate: give certificateDir");
    for (const source of ["secret", "csi"]) delete volume[source];
    volume.hostPath = { path: options.certificateDir, type: "Directory" };
  }
  const yaml = [...options.configMaps, deployment].map((document) => stringify(document)).join("---\n");
  return {
    yaml,
    podName: `${deployment.metadata.name}-pod-0`,
    order: spec.containers.map((container: Manifest) => container.name),
    probes,
    postStart,
  };
}

/** Runs a probe once from the host, as the kubelet would: true when it passes. */
export async function probeOnce(definition: Manifest): Promise<boolean> {
  const timeoutMs = (definition.timeoutSeconds ?? 1) * 1000;
  try {
    if (definition.httpGet) {
      const { host = "127.0.0.1", path = "/", port, scheme = "HTTP" } = definition.httpGet;
      const response = await fetch(`${scheme.toLowerCase()}://${host}:${port}${path}`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 400;
    }
    if (definition.tcpSocket) {
      const connection = await Deno.connect({
        hostname: definition.tcpSocket.host ?? "127.0.0.1",
        port: definition.tcpSocket.port,
      });
      connection.close();
      return true;
    }
  } catch {
    return false;
  }
  throw new Error(`probe handler not run here: ${JSON.stringify(definition)}`);
}

/**
 * Runs a probe every periodSeconds until it passes (true) or fails failureThreshold times, or
 * `maxSeconds` pass (false).
 */
export async function probeUntil(definition: Manifest, maxSeconds = Infinity): Promise<boolean> {
  const period = (definition.periodSeconds ?? 10) * 1000;
  const threshold = definition.failureThreshold ?? 3;
  const deadline = Date.now() + maxSeconds * 1000;
  for (let failures = 0; failures < threshold && Date.now() < deadline; failures++) {
    if (await probeOnce(definition)) return true;
    await new Promise((resolve) => setTimeout(resolve, period));
  }
  return false;
}

export interface PlayedPod {
  readonly adapted: AdaptedPod;
  /** `${pod}-${container}`: podman's name for a container of the played pod. */
  containerName(container: string): string;
  logs(container: string): Promise<string>;
  /** True when every container runs and every readiness (and startup) probe passes now. */
  ready(): Promise<boolean>;
  /** Why the start stopped, when it did (a startup probe or postStart hook that failed). */
  readonly startFailure?: string;
  /** `podman kube down` on the played file; resolves with how long it took. */
  down(): Promise<{ elapsedMs: number }>;
}

/**
 * `podman kube play --start=false`, then the kubelet's start sequence: each container in order,
 * a native sidecar's startupProbe awaited and a postStart hook run before the next one starts.
 */
export async function playPod(options: PlayOptions): Promise<PlayedPod> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const adapted = adaptForPodman(options, suffix);
  const dir = await Deno.makeTempDir({ prefix: "certrole-kube-play-" });
  const file = `${dir}/pod.yaml`;
  await Deno.writeTextFile(file, adapted.yaml);
  const name = (container: string) => `${adapted.podName}-${container}`;
  const played = await podman(["kube", "play", "--start=false", file]);
  if (played.code !== 0) throw new Error(`podman kube play failed:\n${played.stdout}\n${played.stderr}`);
  let startFailure: string | undefined;
  for (const container of adapted.order) {
    await podmanOk(["start", name(container)]);
    const startup = adapted.probes.find((probe) => probe.container === container && probe.kind === "startupProbe");
    if (startup && !(await probeUntil(startup.definition, options.startupWaitSeconds))) {
      startFailure = `the startupProbe of ${container} did not pass`;
      break;
    }
    const hook = adapted.postStart[container];
    if (hook) {
      const result = await podman(["exec", name(container), ...hook]);
      if (result.code !== 0) {
        startFailure = `the postStart hook of ${container} exited ${result.code}`;
        break;
      }
    }
  }
  return {
    adapted,
    containerName: name,
    startFailure,
    async logs(container) {
      const result = await podman(["logs", name(container)]);
      return result.stdout + result.stderr;
    },
    async ready() {
      for (const container of adapted.order) {
        const state = await podman(["inspect", "--format", "{{.State.Status}}", name(container)]);
        if (state.stdout.trim() !== "running") return false;
      }
      for (const probe of adapted.probes) {
        if (probe.kind !== "livenessProbe" && !(await probeOnce(probe.definition))) return false;
      }
      return true;
    },
    async down() {
      const started = performance.now();
      await podman(["kube", "down", file]);
      const elapsedMs = performance.now() - started;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return { elapsedMs };
    },
  };
}

/** Removes a played pod whatever state it is in (a test's finally). */
export async function removePod(pod: PlayedPod | undefined): Promise<void> {
  if (!pod) return;
  await podman(["pod", "rm", "-f", "-t", "0", `${pod.adapted.podName}`]);
}

/** The ConfigMap `kubectl create configmap NAME --from-env-file=FILE` makes of `certrole iam setup`'s env file. */
export function configMapFromEnvFile(name: string, envFile: string): Manifest {
  const data: Record<string, string> = {};
  for (const line of envFile.split("\n")) {
    const match = line.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    if (match) data[match[1]] = match[2];
  }
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data };
}
