/**
 * The shipped deployment files under deploy/, as users apply them: parsed from YAML, their
 * `${NAME}` placeholders filled the way deploy/README.md says (`envsubst` restricted to the names
 * the file documents), and the csi-driver variant made from the sidecar Deployment and
 * cert-manager/csi-volume.patch.yaml by a strategic merge (what `kubectl patch --local` and
 * kustomize do with it). Every test that validates or plays a manifest starts from here, so no
 * test holds a second, hand-written copy of one.
 */
import { parseAllDocuments } from "yaml";
import { ROOT } from "./run.ts";

// deno-lint-ignore no-explicit-any
export type Manifest = Record<string, any>;

export const DEPLOY = `${ROOT}/deploy`;

/** The Kubernetes manifests users apply, relative to deploy/. */
export const KUBERNETES_FILES = [
  "kubernetes/native-sidecar/deployment.yaml",
  "kubernetes/classic-sidecar/deployment.yaml",
  "kubernetes/single-container/deployment.yaml",
  "kubernetes/shared-service/credential-service.yaml",
  "kubernetes/shared-service/client-example.yaml",
  "kubernetes/cert-manager/certificate.yaml",
] as const;

export const CSI_PATCH = "kubernetes/cert-manager/csi-volume.patch.yaml";

/** The placeholders a file documents in its header (`${NAME}`), in order of appearance. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((match) => match[1]))];
}

/**
 * `envsubst '$A $B'`: replaces `${NAME}` for the given names only; any other `$` is left alone
 * (a shell command in a manifest keeps its own). A name without a value is an error, not an
 * empty string: an image reference must never silently become "".
 */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for the placeholder \${${name}}`);
    return values[name];
  });
}

export function parseManifests(text: string, where: string): Manifest[] {
  return parseAllDocuments(text).map((document, index) => {
    if (document.errors.length) throw new Error(`${where} document ${index + 1}: ${document.errors[0].message}`);
    return document.toJS() as Manifest;
  }).filter((manifest) => manifest !== null);
}

export async function readDeployFile(path: string): Promise<string> {
  return await Deno.readTextFile(`${DEPLOY}/${path}`);
}

/** A shipped file's documents, placeholders filled with `values` (all of them must be given). */
export async function loadManifests(path: string, values: Readonly<Record<string, string>>): Promise<Manifest[]> {
  return parseManifests(substitute(await readDeployFile(path), values), path);
}

/** The merge key of a list in a strategic merge patch, as the Kubernetes API declares them. */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: "name",
  initContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
};

/**
 * A strategic merge patch as the API server and `kubectl patch` apply it, for what deploy/'s
 * patches use: objects merge field by field, `null` deletes a field, and lists of objects with a
 * merge key (volumes by name, ...) merge element by element on that key; other lists are replaced.
 */
export function strategicMerge(target: unknown, patch: unknown, field = ""): unknown {
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(target)) return structuredClone(patch);
    const merged = structuredClone(target) as Manifest[];
    for (const item of patch as Manifest[]) {
      const index = merged.findIndex((existing) => existing[key] === item[key]);
      if (index < 0) merged.push(strategicMerge(undefined, item) as Manifest);
      else merged[index] = strategicMerge(merged[index], item) as Manifest;
    }
    return merged;
  }
  if (patch === null || typeof patch !== "object") return patch;
  const result: Manifest = target && typeof target === "object" && !Array.isArray(target)
    ? structuredClone(target) as Manifest
    : {};
  for (const [name, value] of Object.entries(patch as Manifest)) {
    if (value === null) delete result[name];
    else result[name] = strategicMerge(result[name], value, name);
  }
  return result;
}

/** The sidecar Deployment with its certificate from cert-manager's csi-driver (the patch applied). */
export async function csiVariant(sidecarPath: string, values: Readonly<Record<string, string>>): Promise<Manifest> {
  const [deployment] = await loadManifests(sidecarPath, values);
  const [patch] = await loadManifests(CSI_PATCH, values);
  const { apiVersion: _a, kind: _k, metadata: _m, ...changes } = patch;
  return strategicMerge(deployment, changes) as Manifest;
}

/** Example values for every placeholder the shipped files use (what a user would fill in). */
export const EXAMPLE_VALUES: Readonly<Record<string, string>> = {
  CERTROLE_IMAGE: "registry.example.com/certrole-sidecar:0.1.0",
  APP_IMAGE: "registry.example.com/bucket-lister:1.0.0",
  AWS_REGION: "us-east-1",
  CERT_MANAGER_ISSUER: "roles-anywhere-ca",
  NAMESPACE: "default",
};

/** The pod spec of a Deployment or Pod. */
export function podSpec(manifest: Manifest): Manifest {
  return manifest.kind === "Pod" ? manifest.spec : manifest.spec.template.spec;
}

/**
 * Every container of a pod spec, init containers first, with which list it is in and whether it
 * is a native sidecar (an init container with restartPolicy: Always, which keeps running).
 */
export function containersOf(spec: Manifest): { container: Manifest; init: boolean; sidecar: boolean }[] {
  return [
    ...(spec.initContainers ?? []).map((container: Manifest) => ({
      container,
      init: true,
      sidecar: container.restartPolicy === "Always",
    })),
    ...(spec.containers ?? []).map((container: Manifest) => ({ container, init: false, sidecar: false })),
  ];
}

/** The probes a container may have, as the API names them. */
export const PROBES = ["startupProbe", "readinessProbe", "livenessProbe"] as const;
