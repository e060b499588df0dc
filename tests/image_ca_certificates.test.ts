/**
 * Every image trusts its base's system CA store, which certrole reads (cli/transport/trust_store.ts):
 * the rendered Dockerfiles install ca-certificates, as root and before anything that needs TLS,
 * when the base has no CA bundle; and an image built on a bare Debian minbase (which has none)
 * ends up with /etc/ssl/certs/ca-certificates.crt holding Debian's roots.
 */
import assert from "node:assert/strict";
import { renderImages } from "../cli/images/render.ts";
import { RUNTIME_PERMISSIONS } from "../cli/permissions.ts";
import { VERSION } from "../cli/version.ts";
import { buildFixture, DEBIAN_IMAGE, ensureDebian, IMAGE_TESTS_SKIPPED, podman, podmanOk } from "./support/images.ts";
import { ROOT } from "./support/run.ts";

async function rendered() {
  const entrypoints: Record<string, string> = {};
  for (const entry of Deno.readDirSync(`${ROOT}/entrypoints`)) {
    if (entry.name.endsWith(".json")) {
      entrypoints[entry.name.slice(0, -5)] = await Deno.readTextFile(`${ROOT}/entrypoints/${entry.name}`);
    }
  }
  return renderImages({
    template: await Deno.readTextFile(`${ROOT}/Dockerfile.template`),
    variantsJson: await Deno.readTextFile(`${ROOT}/images/variants.json`),
    entrypoints,
  }, { version: VERSION, permissions: RUNTIME_PERMISSIONS });
}

Deno.test("each Dockerfile installs ca-certificates on a base without a CA bundle, as root, first", async () => {
  const files = await rendered();
  assert.ok(files.length >= 4);
  for (const { path, content } of files) {
    const runtime = content.slice(content.indexOf("FROM ${BASE_IMAGE}"));
    const install = runtime.search(/^RUN if \[ -s \/etc\/ssl\/certs\/ca-certificates\.crt \]/m);
    assert.ok(install > 0, `${path} checks for a CA bundle`);
    assert.match(runtime, /apt-get install -y --no-install-recommends ca-certificates/, path);
    assert.match(runtime, /dnf install -y ca-certificates/, path);
    for (const later of [/^RUN if \[ -n "\$\{SDK_PACKAGES\}" \]/m, /^COPY --from=build/m, /^USER 65532:65532$/m]) {
      const at = runtime.search(later);
      assert.ok(at < 0 || at > install, `${path}: ca-certificates before ${later}`);
    }
  }
});

Deno.test("an image on a bare Debian minbase (no CA bundle) gets Debian's CA certificates", {
  ignore: IMAGE_TESTS_SKIPPED !== undefined,
}, async () => {
  await ensureDebian();
  const bare = await podman(["run", "--rm", DEBIAN_IMAGE, "test", "-e", "/etc/ssl/certs/ca-certificates.crt"]);
  assert.notEqual(bare.code, 0, "the minbase has no CA bundle to begin with");
  const builder = await buildFixture("deno-builder");
  const image = "localhost/certrole-ci/certrole-aws-cli-bare:test";
  await podmanOk([
    "build",
    "--pull=never",
    "--network",
    "host",
    "--layers",
    "-f",
    `${ROOT}/images/aws-cli/Dockerfile`,
    "--build-arg",
    "BUILD_MODE=bundle",
    "--build-arg",
    `BASE_IMAGE=${DEBIAN_IMAGE}`,
    "--build-arg",
    `DENO_IMAGE=${builder}`,
    "-t",
    image,
    ROOT,
  ]);
  const count = await podmanOk([
    "run",
    "--rm",
    "--entrypoint",
    "/bin/sh",
    image,
    "-c",
    "grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt",
  ]);
  assert.ok(Number(count.trim()) > 100, `Debian's roots in the bundle: ${count}`);
});
