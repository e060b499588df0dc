/**
 * `certrole image render`: Dockerfile.template filled in per variant (generated header, fully
 * qualified base and Deno images as build arguments, bundle mode by default, `deno compile` with
 * exactly the permissions the bundle's launcher runs with, the Deno code cache filled at build
 * time, numeric non-root user, exec-form ENTRYPOINT from the entrypoint spec, STOPSIGNAL, OCI
 * labels, no heredocs); musl, too-old-glibc and short-named bases refused with a reason; entrypoint
 * specs that supervise or run another certrole command render without template changes; the
 * committed Dockerfiles match the template, and `--check` fails on a stale one and on a leftover
 * folder of a variant that no longer exists.
 */
import assert from "node:assert/strict";
import { launcherScript } from "../cli/build/launcher.ts";
import {
  baseImageProblem,
  dockerfileQuote,
  entrypointArgs,
  fillTemplate,
  inMode,
  parseEntrypoint,
  renderImages,
  shortNameProblem,
} from "../cli/images/render.ts";
import { RUNTIME_PERMISSIONS } from "../cli/permissions.ts";
import { VERSION } from "../cli/version.ts";
import { certrole, ROOT, tempDir } from "./support/run.ts";

async function sources(root = ROOT) {
  const entrypoints: Record<string, string> = {};
  for (const name of ["aws-cli", "python", "node", "ruby", "generic", "sidecar"]) {
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
    "images/sidecar/Dockerfile",
  ]);
  for (const { path, content } of files) {
    assert.match(content, /^# GENERATED FILE, DO NOT EDIT/, path);
    assert.doesNotMatch(content, /\{\{|\}\}/, `${path}: no placeholder left`);
    assert.doesNotMatch(content, /<</, `${path}: no heredoc (buildah 1.28 rejects them)`);
    assert.match(content, /^ARG DENO_IMAGE=docker\.io\/denoland\/deno:2\.9\.6$/m);
    assert.match(content, /^ARG BASE_IMAGE=docker\.io\/(library|amazon)\/[a-z-]+:[\w.-]+$/m, "fully qualified");
    assert.match(content, /^FROM \$\{DENO_IMAGE\} AS build$/m);
    assert.match(content, /^FROM \$\{BASE_IMAGE\}$/m);
    assert.match(content, /^ARG BUILD_MODE=bundle$/m, "the mode CI builds and runs is the default");
    assert.match(content, /bundle\) deno run --frozen --allow-all scripts\/build\.ts --image-root \/ ;;/);
    assert.match(
      content,
      /&& deno run --frozen --allow-all scripts\/image_code_cache\.ts --home \/out\/home\/certrole/,
    );
    const compile = content.match(/compile\) deno compile (.*) --output/)?.[1] ?? "";
    assert.deepEqual(compile.split(" ").filter((flag) => flag !== "--frozen"), [...RUNTIME_PERMISSIONS], path);
    // The bundle's launcher runs Deno with the same permissions as the compiled binary has.
    const launched = launcherScript("/d", "/m.js", "/l").match(/ run (.*) '?\/m\.js'? "\$@"/)?.[1] ?? "";
    assert.deepEqual(
      launched.split(" ").filter((flag) => !["--quiet", "--no-config", "--no-lock"].includes(flag)),
      compile.split(" ").filter((flag) => flag !== "--frozen"),
      "bundle and compile mode run with identical permissions",
    );
    assert.match(content, /^USER 65532:65532$/m);
    assert.doesNotMatch(content, /useradd|adduser/);
    assert.match(content, /^ENV HOME=\/home\/certrole /m);
    assert.match(content, /COPY --from=build --chown=65532:0 \/out\/home\/ \/home\/$/m);
    assert.match(content, /org\.opencontainers\.image\.title="certrole-/);
    assert.match(content, new RegExp(`org\\.opencontainers\\.image\\.version="${VERSION.replaceAll(".", "\\.")}"`));
    assert.match(content, /^STOPSIGNAL SIG[A-Z]+$/m);
    if (path.includes("sidecar")) continue; // below: another certrole command, no CMD
    const entrypoint = JSON.parse(content.match(/^ENTRYPOINT (.*)$/m)![1]);
    assert.deepEqual(entrypoint.filter((arg: string) => arg !== "--supervise").slice(0, 3), [
      "/usr/local/bin/certrole",
      "exec",
      "--",
    ]);
    JSON.parse(content.match(/^CMD (.*)$/m)![1]);
  }
  const [awsCli, python, node, , sidecar] = files.map((file) => file.content);
  // certrole alone, as the credential server of deploy/'s manifests: no SDK, no CMD, serve's defaults.
  assert.match(sidecar, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "serve"\]$/m);
  assert.doesNotMatch(sidecar, /^CMD /m);
  assert.doesNotMatch(sidecar, /SDK_PACKAGES/);
  assert.match(sidecar, /^ARG BASE_IMAGE=docker\.io\/library\/debian:bookworm-slim$/m);
  assert.match(sidecar, /ROLESANYWHERE_CERT_LOCATION="\/etc\/certrole\/certificate\/tls\.crt"/);
  assert.match(sidecar, /ROLESANYWHERE_TOKEN_FILE="\/run\/certrole\/token"/);
  assert.match(sidecar, /^STOPSIGNAL SIGTERM$/m);
  assert.match(awsCli, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "exec", "--supervise", "--", "aws"\]$/m);
  assert.match(awsCli, /^STOPSIGNAL SIGTERM$/m);
  assert.doesNotMatch(awsCli, /SDK_PACKAGES/, "nothing but certrole on the aws-cli base");
  assert.match(python, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "exec", "--supervise", "--"\]$/m);
  assert.match(python, /^ARG SDK_PACKAGES="boto3==[\d.]+"$/m);
  assert.match(
    python,
    /^RUN if \[ -n "\$\{SDK_PACKAGES\}" \]; then pip install --no-cache-dir \$\{SDK_PACKAGES\}; fi$/m,
  );
  assert.match(node, /^COPY entrypoints\/node-pid1-signals\.cjs \/usr\/local\/lib\/certrole\/node-pid1-signals\.cjs$/m);
  assert.doesNotMatch(node, /^ +NODE_OPTIONS=/m, "the node image supervises: no preload");
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
  variants.variants[1].baseImage = "docker.io/library/python:3.13-alpine";
  assert.throws(
    () => renderImages({ ...inputs, variantsJson: JSON.stringify(variants) }, OPTIONS),
    (error: Error) => {
      assert.equal(
        error.message,
        "variant python: base image docker.io/library/python:3.13-alpine is musl-based (Alpine): Deno's binaries " +
          "need glibc; choose a glibc base (Debian, Ubuntu, Amazon Linux 2023, distroless/base)",
      );
      return true;
    },
  );
});

Deno.test("short image names are refused: podman cannot resolve them without a short-name configuration", async () => {
  assert.match(shortNameProblem("python:3.13-slim-bookworm")!, /name the registry \(docker\.io\/library\/python:3\.13/);
  assert.match(shortNameProblem("amazon/aws-cli:2.31.0")!, /\(docker\.io\/amazon\/aws-cli:2\.31\.0\)/);
  for (const image of ["docker.io/amazon/aws-cli:2.31.0", "localhost/certrole-ci/debian:bookworm", "registry:5000/x"]) {
    assert.equal(shortNameProblem(image), undefined, image);
  }
  const inputs = await sources();
  const variants = JSON.parse(inputs.variantsJson);
  variants.variants[0].baseImage = "amazon/aws-cli:2.31.0";
  assert.throws(() => renderImages({ ...inputs, variantsJson: JSON.stringify(variants) }, OPTIONS), {
    message: 'images/variants.json variant 1: baseImage "amazon/aws-cli:2.31.0" is a short name, which podman ' +
      "refuses without a short-name configuration: name the registry (docker.io/amazon/aws-cli:2.31.0)",
  });
  const deno = { ...JSON.parse(inputs.variantsJson), denoImage: "denoland/deno:2.9.6" };
  assert.throws(
    () => renderImages({ ...inputs, variantsJson: JSON.stringify(deno) }, OPTIONS),
    /denoImage .* short name/,
  );
});

Deno.test("entrypoint specs as data: both modes, another certrole command, no CMD", async () => {
  const modes = {
    replace: { stopSignal: "SIGINT", stopSignalReason: "why", env: { ONLY_REPLACED: "1" } },
    supervise: { stopSignal: "SIGTERM", stopSignalReason: "why not" },
  };
  const spec = (fields: Record<string, unknown>) => JSON.stringify({ ...modes, ...fields });
  const inputs = await sources();
  const render = (entrypoint: string) => {
    const variants = JSON.parse(inputs.variantsJson);
    variants.variants = [{ ...variants.variants[0], name: "trial", entrypoint: "trial" }];
    return renderImages(
      { ...inputs, variantsJson: JSON.stringify(variants), entrypoints: { ...inputs.entrypoints, trial: entrypoint } },
      OPTIONS,
    )[0].content;
  };
  const supervised = render(spec({ mode: "supervise", wraps: ["aws"], cmd: ["s3", "ls"] }));
  assert.match(supervised, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "exec", "--supervise", "--", "aws"\]$/m);
  assert.match(supervised, /^STOPSIGNAL SIGTERM$/m);
  assert.doesNotMatch(supervised, /ONLY_REPLACED/, "a mode's environment only in that mode");
  const replaced = render(spec({ wraps: ["aws"] }));
  assert.match(replaced, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "exec", "--", "aws"\]$/m);
  assert.match(replaced, /^STOPSIGNAL SIGINT$/m);
  assert.match(replaced, /ONLY_REPLACED="1"/);
  const sidecar = render(JSON.stringify({ certrole: ["serve"], stopSignal: "SIGTERM", stopSignalReason: "why" }));
  assert.match(sidecar, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "serve"\]$/m);
  assert.doesNotMatch(sidecar, /^CMD /m, "no CMD line when the spec has none");
  assert.throws(() => render(spec({ certrole: ["serve"], wraps: ["aws"] })), /"certrole" .* excludes "wraps"/);
  assert.throws(() => render(spec({ mode: "fork" })), /mode "fork" must be one of replace, supervise/);
  assert.throws(
    () => render(JSON.stringify({ replace: modes.replace })),
    /"supervise" must be an object with stopSignal/,
  );
  assert.throws(
    () => render(spec({ stopSignal: "SIGTERM", stopSignalReason: "r" })),
    /stopSignal belongs in each mode's section/,
  );

  const python = parseEntrypoint(inputs.entrypoints.python, "python.json");
  assert.deepEqual(entrypointArgs(python), ["exec", "--supervise", "--"], "the python image ships supervised");
  const pythonReplaced = inMode(python, "replace");
  assert.deepEqual(entrypointArgs(pythonReplaced), ["exec", "--"]);
  assert.equal(pythonReplaced.stop.signal, "SIGINT", "Python as PID 1 drops SIGTERM");
  const ruby = parseEntrypoint(inputs.entrypoints.ruby, "ruby.json");
  assert.deepEqual(entrypointArgs(ruby), ["exec", "--"], "the ruby image replaces certrole with Ruby");
  const switched = inMode(ruby, "supervise");
  assert.deepEqual(entrypointArgs(switched), ["exec", "--supervise", "--"]);
  assert.equal(switched.stop.signal, "SIGTERM", "a supervised command is not PID 1: SIGTERM's default action ends it");
  const node = parseEntrypoint(inputs.entrypoints.node, "node.json");
  assert.equal(node.env.NODE_OPTIONS, undefined, "supervised node needs no preload");
  assert.match(
    inMode(node, "replace").env.NODE_OPTIONS,
    /--require \/usr\/local\/lib\/certrole\/node-pid1-signals\.cjs/,
  );
});

Deno.test("entrypoint specs and the template are checked, values quoted literally", () => {
  const term = '"supervise": {"stopSignal": "SIGTERM", "stopSignalReason": "r"}';
  assert.throws(
    () =>
      parseEntrypoint(`{"cmd": ["x"], "replace": {"stopSignal": "TERM", "stopSignalReason": "r"}, ${term}}`, "e.json"),
    { message: 'e.json: replace.stopSignal "TERM" must be a signal name like SIGTERM' },
  );
  assert.throws(
    () =>
      parseEntrypoint(
        `{"cmd": ["x"], "replace": {"stopSignal": "SIGINT", "stopSignalReason": "r"}, ${term}, "env": {"A B": "1"}}`,
        "e",
      ),
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

Deno.test("a leftover images/<name>/ of a variant that no longer exists: --check fails, render removes it", async () => {
  const copy = await tempDir();
  for (const dir of ["images", "entrypoints"]) await Deno.mkdir(`${copy}/${dir}`);
  await Deno.copyFile(`${ROOT}/Dockerfile.template`, `${copy}/Dockerfile.template`);
  for await (const entry of Deno.readDir(`${ROOT}/entrypoints`)) {
    await Deno.copyFile(`${ROOT}/entrypoints/${entry.name}`, `${copy}/entrypoints/${entry.name}`);
  }
  // ruby was a variant, then removed from variants.json; its rendered folder stayed behind.
  const variants = JSON.parse(await Deno.readTextFile(`${ROOT}/images/variants.json`));
  variants.variants = variants.variants.filter((variant: { name: string }) => variant.name !== "ruby");
  await Deno.writeTextFile(`${copy}/images/variants.json`, JSON.stringify(variants));
  assert.equal((await certrole(["image", "render", "--root", copy])).code, 0);
  await Deno.mkdir(`${copy}/images/ruby`);
  await Deno.copyFile(`${ROOT}/images/ruby/Dockerfile`, `${copy}/images/ruby/Dockerfile`);

  const check = await certrole(["image", "render", "--check", "--root", copy]);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /^certrole: images\/ruby\/ belongs to no variant of images\/variants\.json: delete it/);

  const rendered = await certrole(["image", "render", "--root", copy]);
  assert.equal(rendered.code, 0, rendered.stderr);
  assert.match(rendered.stdout, /removed images\/ruby\/ \(no variant "ruby" in images\/variants\.json\)/);
  assert.equal(await Deno.stat(`${copy}/images/ruby`).catch(() => undefined), undefined);
  assert.equal((await certrole(["image", "render", "--check", "--root", copy])).code, 0);

  // A folder holding anything else is never deleted: it is reported.
  await Deno.mkdir(`${copy}/images/notes`);
  await Deno.writeTextFile(`${copy}/images/notes/README`, "mine\n");
  const kept = await certrole(["image", "render", "--root", copy]);
  assert.equal(kept.code, 1);
  assert.match(kept.stderr, /images\/notes\/ belongs to no variant/);
  assert.equal(await Deno.readTextFile(`${copy}/images/notes/README`), "mine\n");
});
