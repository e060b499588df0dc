/**
 * `certrole image render`: Dockerfile.template filled in per variant (generated header, base and
 * Deno images as build arguments, `deno compile` with exactly certrole's runtime permissions,
 * numeric non-root user, exec-form ENTRYPOINT from the entrypoint spec, STOPSIGNAL, OCI labels, no
 * heredocs); musl and too-old-glibc bases refused with a reason; the committed Dockerfiles match
 * the template, and `--check` fails on a stale one.
 */
import assert from "node:assert/strict";
import {
  baseImageProblem,
  dockerfileQuote,
  fillTemplate,
  parseEntrypoint,
  renderImages,
} from "../cli/images/render.ts";
import { RUNTIME_PERMISSIONS } from "../cli/permissions.ts";
import { VERSION } from "../cli/version.ts";
import { certrole, ROOT, tempDir } from "./support/run.ts";

async function sources(root = ROOT) {
  const entrypoints: Record<string, string> = {};
  for (const name of ["aws-cli", "python", "node", "ruby"]) {
    entrypoints[name] = await Deno.readTextFile(`${root}/entrypoints/${name}.json`);
  }
  return {
    template: await Deno.readTextFile(`${root}/Dockerfile.template`),
    variantsJson: await Deno.readTextFile(`${root}/images/variants.json`),
    entrypoints,
  };
}

const OPTIONS = { version: VERSION, permissions: RUNTIME_PERMISSIONS };

Deno.test("each variant's Dockerfile: header, stages, permissions, user, entrypoint, labels", async () => {
  const files = renderImages(await sources(), OPTIONS);
  assert.deepEqual(files.map((file) => file.path), [
    "images/aws-cli/Dockerfile",
    "images/python/Dockerfile",
    "images/node/Dockerfile",
    "images/ruby/Dockerfile",
  ]);
  for (const { path, content } of files) {
    assert.match(content, /^# GENERATED FILE, DO NOT EDIT/, path);
    assert.doesNotMatch(content, /\{\{|\}\}/, `${path}: no placeholder left`);
    assert.doesNotMatch(content, /<</, `${path}: no heredoc (buildah 1.28 rejects them)`);
    assert.match(content, /^ARG DENO_IMAGE=denoland\/deno:2\.9\.6$/m);
    assert.match(content, /^FROM \$\{DENO_IMAGE\} AS build$/m);
    assert.match(content, /^FROM \$\{BASE_IMAGE\}$/m);
    assert.match(content, /^ARG BUILD_MODE=compile$/m);
    const compile = content.match(/compile\) deno compile (.*) --output/)?.[1] ?? "";
    assert.deepEqual(compile.split(" ").filter((flag) => flag !== "--frozen"), [...RUNTIME_PERMISSIONS], path);
    assert.match(content, /^USER 65532:65532$/m);
    assert.doesNotMatch(content, /useradd|adduser/);
    assert.match(content, /^ENV HOME=\/home\/certrole /m);
    assert.match(content, /COPY --from=build --chown=65532:0 \/out\/home\/ \/home\/$/m);
    assert.match(content, /org\.opencontainers\.image\.title="certrole-/);
    assert.match(content, new RegExp(`org\\.opencontainers\\.image\\.version="${VERSION.replaceAll(".", "\\.")}"`));
    assert.match(content, /^STOPSIGNAL SIG[A-Z]+$/m);
    const entrypoint = JSON.parse(content.match(/^ENTRYPOINT (.*)$/m)![1]);
    assert.deepEqual(entrypoint.slice(0, 3), ["/usr/local/bin/certrole", "exec", "--"]);
    JSON.parse(content.match(/^CMD (.*)$/m)![1]);
  }
  const [awsCli, python, node] = files.map((file) => file.content);
  assert.match(awsCli, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "exec", "--", "aws"\]$/m);
  assert.match(awsCli, /^STOPSIGNAL SIGINT$/m);
  assert.doesNotMatch(awsCli, /SDK_PACKAGES/, "nothing but certrole on the aws-cli base");
  assert.match(python, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "exec", "--"\]$/m);
  assert.match(python, /^ARG SDK_PACKAGES="boto3==[\d.]+"$/m);
  assert.match(
    python,
    /^RUN if \[ -n "\$\{SDK_PACKAGES\}" \]; then pip install --no-cache-dir \$\{SDK_PACKAGES\}; fi$/m,
  );
  assert.match(node, /^COPY entrypoints\/node-pid1-signals\.cjs \/usr\/local\/lib\/certrole\/node-pid1-signals\.cjs$/m);
  assert.match(node, /NODE_OPTIONS="--require \/usr\/local\/lib\/certrole\/node-pid1-signals\.cjs"/);
  assert.match(node, /^STOPSIGNAL SIGTERM$/m);
});

Deno.test("bases that cannot run Deno are refused with the reason", async () => {
  for (
    const image of ["python:3.13-alpine", "alpine:3.20", "node:22-alpine3.20", "gcr.io/distroless/static-debian12"]
  ) {
    assert.ok(baseImageProblem(image), image);
  }
  assert.match(baseImageProblem("python:3.13-alpine")!, /musl.*glibc/);
  assert.match(baseImageProblem("amazonlinux:2")!, /glibc 2\.26/);
  assert.match(baseImageProblem("amazon/aws-cli:2.17.64")!, /glibc 2\.26/);
  for (
    const image of [
      "amazon/aws-cli:2.31.0",
      "public.ecr.aws/amazonlinux/amazonlinux:2023",
      "python:3.13-slim-bookworm",
      "node:22-bookworm-slim",
      "gcr.io/distroless/base-debian12",
      "localhost/certrole-ci/debian-awscli:bookworm",
    ]
  ) {
    assert.equal(baseImageProblem(image), undefined, image);
  }

  const inputs = await sources();
  const variants = JSON.parse(inputs.variantsJson);
  variants.variants[1].baseImage = "python:3.13-alpine";
  assert.throws(
    () => renderImages({ ...inputs, variantsJson: JSON.stringify(variants) }, OPTIONS),
    (error: Error) => {
      assert.equal(
        error.message,
        "variant python: base image python:3.13-alpine is musl-based (Alpine): Deno's binaries need glibc; " +
          "choose a glibc base (Debian, Ubuntu, Amazon Linux 2023, distroless/base)",
      );
      return true;
    },
  );
});

Deno.test("entrypoint specs and the template are checked, values quoted literally", () => {
  assert.throws(() => parseEntrypoint('{"cmd": ["x"], "stopSignal": "TERM", "stopSignalReason": "r"}', "e.json"), {
    message: 'e.json: stopSignal "TERM" must be a signal name like SIGTERM',
  });
  assert.throws(
    () => parseEntrypoint('{"cmd": ["x"], "stopSignal": "SIGTERM", "stopSignalReason": "r", "env": {"A B": "1"}}', "e"),
    { message: 'e: environment variable name "A B" is not valid' },
  );
  assert.throws(() => fillTemplate("{{missing}}", {}), { message: "Dockerfile.template: unknown {{missing}}" });
  assert.equal(fillTemplate("a\n{{gone}}\nb {{x}}", { gone: "", x: "1" }), "a\nb 1");
  assert.equal(dockerfileQuote('a "$HOME" \\'), '"a \\"\\$HOME\\" \\\\"');
});

Deno.test("the committed images/*/Dockerfile match the template; --check fails on a stale one", async () => {
  const files = renderImages(await sources(), OPTIONS);
  for (const file of files) {
    assert.equal(await Deno.readTextFile(`${ROOT}/${file.path}`), file.content, `${file.path} is stale: make images`);
  }
  const check = await certrole(["image", "render", "--check", "--root", ROOT]);
  assert.equal(check.code, 0, check.stderr);

  const copy = await tempDir();
  await Deno.mkdir(`${copy}/images`);
  await Deno.mkdir(`${copy}/entrypoints`);
  await Deno.copyFile(`${ROOT}/Dockerfile.template`, `${copy}/Dockerfile.template`);
  await Deno.copyFile(`${ROOT}/images/variants.json`, `${copy}/images/variants.json`);
  for await (const entry of Deno.readDir(`${ROOT}/entrypoints`)) {
    await Deno.copyFile(`${ROOT}/entrypoints/${entry.name}`, `${copy}/entrypoints/${entry.name}`);
  }
  const missing = await certrole(["image", "render", "--check", "--root", copy]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^certrole: images\/aws-cli\/Dockerfile, .* differ from Dockerfile\.template: run/);

  const written = await certrole(["image", "render", "--root", copy]);
  assert.equal(written.code, 0, written.stderr);
  assert.match(written.stdout, /rendered images\/python\/Dockerfile/);
  assert.equal((await certrole(["image", "render", "--check", "--root", copy])).code, 0);

  await Deno.writeTextFile(`${copy}/images/node/Dockerfile`, "# edited by hand\n", { append: true });
  const stale = await certrole(["image", "render", "--check", "--root", copy]);
  assert.equal(stale.code, 1);
  assert.equal(
    stale.stderr,
    "certrole: images/node/Dockerfile differs from Dockerfile.template: run `certrole image render` and commit the result\n",
  );
});
