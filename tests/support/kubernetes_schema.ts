/**
 * Validates Kubernetes manifests without a cluster, in three layers, each a different source of
 * truth about the Kubernetes API:
 *
 * 1. The API's JSON schema (types, formats such as quantities, required fields), through the
 *    validators npm's kubernetes-models (and @kubernetes-models/cert-manager) generate from the
 *    Kubernetes OpenAPI document and cert-manager's CRDs.
 * 2. Field names, checked by TypeScript against the interfaces the same packages generate: an
 *    object literal with a field the API does not have fails `deno check` (excess property
 *    checks), as the API server's strict field validation refuses it (`kubectl apply`'s default).
 *    The JSON schema alone accepts unknown fields.
 * 3. The API server's own validation rules that no schema carries, for the features deploy/ uses
 *    (native sidecars above all, which podman 4.3 cannot run): restartPolicy on init containers,
 *    probes and lifecycle hooks only on restartable init containers, unique container names,
 *    mounts of declared volumes, one source per volume, one handler per probe, selectors that
 *    match the template.
 */
import { Certificate, Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { ConfigMap, Pod, Secret, Service } from "kubernetes-models/v1";
import { containersOf, type Manifest, podSpec, PROBES } from "./kubernetes_manifests.ts";
import { ROOT, run } from "./run.ts";

interface Kind {
  readonly model: new (data: never) => { validate(): void };
  /** The generated TypeScript interface: [module, name]. */
  readonly type: readonly [string, string];
}

const KINDS: Readonly<Record<string, Kind>> = {
  "apps/v1 Deployment": { model: Deployment, type: ["kubernetes-models/apps/v1/Deployment", "IDeployment"] },
  "v1 Pod": { model: Pod, type: ["kubernetes-models/v1/Pod", "IPod"] },
  "v1 Service": { model: Service, type: ["kubernetes-models/v1/Service", "IService"] },
  "v1 ConfigMap": { model: ConfigMap, type: ["kubernetes-models/v1/ConfigMap", "IConfigMap"] },
  "v1 Secret": { model: Secret, type: ["kubernetes-models/v1/Secret", "ISecret"] },
  "networking.k8s.io/v1 NetworkPolicy": {
    model: NetworkPolicy,
    type: ["kubernetes-models/networking.k8s.io/v1/NetworkPolicy", "INetworkPolicy"],
  },
  "cert-manager.io/v1 Certificate": {
    model: Certificate,
    type: ["@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate", "ICertificate"],
  },
  "cert-manager.io/v1 Issuer": {
    model: Issuer,
    type: ["@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer", "IIssuer"],
  },
};

export interface Named {
  /** Where it comes from, for messages: "deploy/kubernetes/x.yaml (Deployment bucket-lister)". */
  readonly where: string;
  readonly manifest: Manifest;
}

function kindOf(manifest: Manifest, where: string): Kind {
  const kind = KINDS[`${manifest.apiVersion} ${manifest.kind}`];
  if (!kind) throw new Error(`${where}: no schema here for ${manifest.apiVersion} ${manifest.kind}`);
  return kind;
}

/** Layer 1: the JSON schema. Problems as lines; none when valid. */
export function schemaProblems({ where, manifest }: Named): string[] {
  try {
    new (kindOf(manifest, where).model)(structuredClone(manifest) as never).validate();
    return [];
  } catch (error) {
    return [`${where}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

/**
 * Layer 2: every manifest as a typed constant in one generated module, checked by `deno check`.
 * Problems name the manifest and TypeScript's message (which names the field and the type).
 */
export async function fieldProblems(manifests: readonly Named[]): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "certrole-manifest-types-" });
  try {
    const imports: string[] = [];
    const body: string[] = [];
    const owners: { from: number; to: number; where: string }[] = [];
    const seen = new Map<string, string>();
    manifests.forEach(({ where, manifest }, index) => {
      const [module, name] = kindOf(manifest, where).type;
      if (!seen.has(module)) {
        seen.set(module, `T${seen.size}`);
        imports.push(`import type { ${name} as T${seen.size - 1} } from "${module}";`);
      }
      const literal = JSON.stringify(manifest, null, 2);
      owners.push({ from: body.length + 1, to: body.length + 1 + literal.split("\n").length, where });
      body.push(...`export const m${index}: ${seen.get(module)} = ${literal};`.split("\n"));
    });
    const offset = imports.length;
    const file = `${dir}/manifests.ts`;
    await Deno.writeTextFile(file, [...imports, ...body].join("\n") + "\n");
    const result = await run(Deno.execPath(), ["check", "--quiet", "--config", `${ROOT}/deno.json`, file], {
      env: { NO_COLOR: "1" },
    });
    if (result.code === 0) return [];
    const problems: string[] = [];
    const output = result.stdout + result.stderr;
    for (
      const match of output.matchAll(
        /(TS\d+) \[ERROR\]: ([^\n]+)\n(?:(?!TS\d+ \[ERROR\])[^])*?at file:\/\/[^:\n]+:(\d+):\d+/g,
      )
    ) {
      const line = Number(match[3]) - offset;
      const owner = owners.find((entry) => line >= entry.from && line < entry.to);
      problems.push(`${owner?.where ?? "?"}: ${match[2]} (${match[1]})`);
    }
    return problems.length ? problems : [`deno check failed:\n${output}`];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const PROBE_HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"];
const VOLUME_SOURCES = [
  "secret",
  "configMap",
  "emptyDir",
  "csi",
  "hostPath",
  "projected",
  "persistentVolumeClaim",
  "downwardAPI",
  "ephemeral",
  "image",
  "nfs",
];

/** Layer 3: the API server's validation rules deploy/'s features depend on. */
export function apiRuleProblems({ where, manifest }: Named): string[] {
  const problems: string[] = [];
  const problem = (text: string) => problems.push(`${where}: ${text}`);
  if (manifest.kind === "Deployment") {
    const selector = manifest.spec?.selector?.matchLabels ?? {};
    const labels = manifest.spec?.template?.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(selector)) {
      if (labels[key] !== value) problem(`spec.selector ${key}=${value} does not match the template's labels`);
    }
  }
  if (manifest.kind !== "Deployment" && manifest.kind !== "Pod") return problems;
  const spec = podSpec(manifest);
  const volumes = new Set<string>();
  for (const volume of spec.volumes ?? []) {
    if (volumes.has(volume.name)) problem(`volume ${volume.name} is declared twice`);
    volumes.add(volume.name);
    const sources = VOLUME_SOURCES.filter((source) => volume[source] !== undefined);
    if (sources.length !== 1) problem(`volume ${volume.name} must have exactly one source, has ${sources.join(", ")}`);
    if (volume.emptyDir?.medium !== undefined && !["", "Memory"].includes(volume.emptyDir.medium)) {
      problem(`volume ${volume.name}: emptyDir.medium must be "" or Memory`);
    }
  }
  const names = new Set<string>();
  for (const { container, init, sidecar } of containersOf(spec)) {
    const at = `${init ? "initContainers" : "containers"}[${container.name}]`;
    if (names.has(container.name)) problem(`container name ${container.name} is used twice`);
    names.add(container.name);
    if (container.restartPolicy !== undefined && !sidecar) {
      problem(`${at}: restartPolicy is allowed only on init containers, and only "Always" (a native sidecar)`);
    }
    for (const probe of PROBES) {
      const definition = container[probe];
      if (!definition) continue;
      if (init && !sidecar) problem(`${at}: ${probe} is allowed only on restartable init containers`);
      if (!init || sidecar) {
        const handlers = PROBE_HANDLERS.filter((handler) => definition[handler] !== undefined);
        if (handlers.length !== 1) problem(`${at}: ${probe} must have exactly one handler`);
      }
      if (probe === "startupProbe" && definition.successThreshold > 1) {
        problem(`${at}: startupProbe.successThreshold must be 1`);
      }
    }
    if (container.lifecycle && init && !sidecar) {
      problem(`${at}: lifecycle is allowed only on restartable init containers`);
    }
    for (const mount of container.volumeMounts ?? []) {
      if (!volumes.has(mount.name)) problem(`${at}: volumeMount ${mount.name} names no volume of the pod`);
    }
    const seccomp = container.securityContext?.seccompProfile?.type ?? spec.securityContext?.seccompProfile?.type;
    if (seccomp !== undefined && !["RuntimeDefault", "Localhost", "Unconfined"].includes(seccomp)) {
      problem(`${at}: seccompProfile.type ${seccomp} is not RuntimeDefault, Localhost or Unconfined`);
    }
  }
  return problems;
}

/** All three layers over a set of manifests: every problem, as lines. */
export async function kubernetesProblems(manifests: readonly Named[]): Promise<string[]> {
  return [
    ...manifests.flatMap(schemaProblems),
    ...manifests.flatMap(apiRuleProblems),
    ...await fieldProblems(manifests),
  ];
}
