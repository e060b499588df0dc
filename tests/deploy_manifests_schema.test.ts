/**
 * Every Kubernetes manifest under deploy/ (and the csi-driver variant of both sidecar
 * Deployments) is valid against the Kubernetes API without a cluster: its JSON schema, its field
 * names (strict, as `kubectl apply` validates), and the API server's rules for what these files
 * use, native sidecars included (podman 4.3 cannot run those, so this is where their structure is
 * checked). Also: each layer refuses a broken copy, every placeholder is documented in its
 * file's header and filled, and the csi patch merges as `kubectl patch --local` merges it.
 */
import assert from "node:assert/strict";
import {
  CSI_PATCH,
  csiVariant,
  EXAMPLE_VALUES,
  KUBERNETES_FILES,
  loadManifests,
  type Manifest,
  placeholders,
  podSpec,
  readDeployFile,
  strategicMerge,
} from "./support/kubernetes_manifests.ts";
import { apiRuleProblems, kubernetesProblems, type Named, schemaProblems } from "./support/kubernetes_schema.ts";
import { run } from "./support/run.ts";

const SIDECARS = ["kubernetes/native-sidecar/deployment.yaml", "kubernetes/classic-sidecar/deployment.yaml"];

async function shipped(): Promise<Named[]> {
  const named: Named[] = [];
  for (const path of KUBERNETES_FILES) {
    for (const manifest of await loadManifests(path, EXAMPLE_VALUES)) {
      named.push({ where: `deploy/${path} (${manifest.kind} ${manifest.metadata?.name})`, manifest });
    }
  }
  for (const path of SIDECARS) {
    named.push({ where: `deploy/${path} + ${CSI_PATCH}`, manifest: await csiVariant(path, EXAMPLE_VALUES) });
  }
  return named;
}

Deno.test("deploy manifests: valid against the Kubernetes API schema, field names and API rules", async () => {
  const manifests = await shipped();
  assert.ok(manifests.length >= 10, `found ${manifests.length} manifests`);
  assert.deepEqual(await kubernetesProblems(manifests), []);
});

Deno.test("deploy manifests: the native sidecar is a restartable init container with a startup probe", async () => {
  const [deployment] = await loadManifests(SIDECARS[0], EXAMPLE_VALUES);
  const [sidecar] = podSpec(deployment).initContainers;
  assert.equal(sidecar.restartPolicy, "Always");
  assert.equal(sidecar.startupProbe.httpGet.path, "/healthz");
  const app = podSpec(deployment).containers[0];
  const env = Object.fromEntries(app.env.map((entry: Manifest) => [entry.name, entry.value]));
  assert.equal(env.AWS_CONTAINER_CREDENTIALS_FULL_URI, "http://127.0.0.1:9911/v1/credentials");
  assert.equal(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, "/run/certrole/token");
});

Deno.test("deploy manifests: each validation layer refuses a broken copy", async () => {
  const [deployment] = await loadManifests(SIDECARS[0], EXAMPLE_VALUES);
  const where = "broken";
  const typo = structuredClone(deployment);
  podSpec(typo).initContainers[0].restartPolicyy = "Always";
  const quantity = structuredClone(deployment);
  podSpec(quantity).initContainers[0].resources.limits.memory = "128 MiB";
  const ordinaryInit = structuredClone(deployment);
  delete podSpec(ordinaryInit).initContainers[0].restartPolicy;
  const dangling = structuredClone(deployment);
  podSpec(dangling).containers[0].volumeMounts.push({ name: "nowhere", mountPath: "/x" });

  assert.match(
    (await kubernetesProblems([{ where, manifest: typo }])).join("\n"),
    /'"restartPolicyy"' does not exist in type 'IContainer'/,
  );
  assert.match(schemaProblems({ where, manifest: quantity }).join("\n"), /memory must match format "quantity"/);
  const rules = apiRuleProblems({ where, manifest: ordinaryInit }).join("\n");
  assert.match(rules, /startupProbe is allowed only on restartable init containers/);
  assert.match(apiRuleProblems({ where, manifest: dangling }).join("\n"), /volumeMount nowhere names no volume/);
});

Deno.test("deploy manifests: every placeholder is documented in its file's header and has an example", async () => {
  for (const path of [...KUBERNETES_FILES, CSI_PATCH, "compose/compose.yaml"]) {
    const text = await readDeployFile(path);
    const header = text.split("\n").filter((line) => line.startsWith("#")).join("\n");
    for (const name of placeholders(text)) {
      assert.ok(header.includes(`\${${name}}`) || path.startsWith("compose/"), `${path}: \${${name}} undocumented`);
      if (!path.startsWith("compose/")) assert.ok(name in EXAMPLE_VALUES, `${path}: no example for \${${name}}`);
    }
    if (!path.startsWith("compose/")) {
      const yaml = text.split("\n").filter((line) => !line.trimStart().startsWith("#")).join("\n");
      assert.doesNotMatch(yaml.replace(/\$\{[A-Z][A-Z0-9_]*\}/g, ""), /\$/, `${path}: a $ besides the placeholders`);
    }
  }
});

Deno.test("deploy manifests: the csi patch merges as kubectl patch --local merges it", async () => {
  const variant = await csiVariant(SIDECARS[0], EXAMPLE_VALUES);
  const certificate = podSpec(variant).volumes.find((volume: Manifest) => volume.name === "certificate");
  assert.equal(certificate.secret, undefined);
  assert.equal(certificate.csi.driver, "csi.cert-manager.io");
  assert.equal(certificate.csi.volumeAttributes["csi.cert-manager.io/key-usages"], "digital signature,client auth");
  assert.deepEqual(
    strategicMerge({ args: ["a"], env: [{ name: "X", value: "1" }] }, {
      args: ["b"],
      env: [{ name: "Y", value: "2" }],
    }),
    { args: ["b"], env: [{ name: "X", value: "1" }, { name: "Y", value: "2" }] },
    "lists with an API merge key merge by element, others are replaced",
  );
  const kubectl = await run("kubectl", ["version", "--client"]).catch(() => undefined);
  if (kubectl?.code !== 0) return; // kubectl is on our machines' image; elsewhere the assertions above stand
  const dir = await Deno.makeTempDir();
  const [deployment] = await loadManifests(SIDECARS[0], EXAMPLE_VALUES);
  const [patch] = await loadManifests(CSI_PATCH, EXAMPLE_VALUES);
  await Deno.writeTextFile(`${dir}/deployment.json`, JSON.stringify(deployment));
  await Deno.writeTextFile(`${dir}/patch.json`, JSON.stringify({ spec: patch.spec }));
  const patched = await run("kubectl", [
    ...["patch", "--local", "-f", `${dir}/deployment.json`, "--type", "strategic"],
    ...["--patch-file", `${dir}/patch.json`, "-o", "json"],
  ]);
  await Deno.remove(dir, { recursive: true });
  assert.equal(patched.code, 0, patched.stderr);
  assert.deepEqual(podSpec(JSON.parse(patched.stdout)).volumes, podSpec(variant).volumes);
});
