/**
 * `certrole image dockerfile`: prints a multi-stage Dockerfile for a user's own base from the same
 * template and entrypoint specs as certrole's images (for a variant's base and runtime, everything
 * from the build stage on is the committed Dockerfile but its SDK and title/version labels), with
 * the numeric user, HOME, the runtime's STOPSIGNAL and ENTRYPOINT; --supervise and --no-supervise
 * render each runtime in either exec mode, with that mode's STOPSIGNAL and environment (node's
 * NODE_OPTIONS preload in replace mode only); bad input is one line, exit 2.
 */
import assert from "node:assert/strict";
import { command as exec } from "../cli/commands/exec.ts";
import { parseVariants } from "../cli/images/render.ts";
import { certrole, ROOT, tempDir } from "./support/run.ts";

/** Whether this certrole's exec can supervise (it arrives with `certrole serve`); --supervise is refused until then. */
const SUPERVISE = "supervise" in exec.flags;

async function dockerfile(args: string[], cwd = ROOT) {
  return await certrole(["image", "dockerfile", ...args], { cwd });
}

/** The lines shared by construction: build stage and runtime stanza, without SDK and image-identity lines. */
function sharedPart(text: string): string {
  const from = text.indexOf("ARG DENO_IMAGE=");
  return text.slice(from).split("\n").filter((line) =>
    !/^ARG (BASE_IMAGE|SDK_PACKAGES)=/.test(line) &&
    !/SDK_PACKAGES|hadolint ignore/.test(line) &&
    !/org\.opencontainers\.image\.(title|description|version)=/.test(line)
  ).join("\n");
}

Deno.test("a runtime on your base: build stage, certrole, user, HOME, STOPSIGNAL, ENTRYPOINT; no SDK", async () => {
  const base = "registry.example.com/team/python:3.12-slim";
  const result = await dockerfile(["--base", base, "--runtime", "python"]);
  assert.equal(result.code, 0, result.stderr);
  const text = result.stdout;
  assert.match(text, /^# Written by `certrole image dockerfile --base registry\.example\.com\/team\/python:3\.12-slim/);
  assert.match(text, /^ARG BASE_IMAGE=registry\.example\.com\/team\/python:3\.12-slim$/m);
  assert.match(text, /^FROM \$\{DENO_IMAGE\} AS build$/m);
  assert.match(text, /^FROM \$\{BASE_IMAGE\}$/m);
  assert.match(text, /^COPY --from=build \/out\/rootfs\/ \/$/m);
  assert.match(text, /^USER 65532:65532$/m);
  assert.match(text, /^ENV HOME=\/home\/certrole /m);
  assert.match(text, /^STOPSIGNAL SIGTERM$/m);
  assert.match(text, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "exec", "--supervise", "--"\]$/m);
  assert.match(text, /^CMD \["python3"\]$/m);
  assert.doesNotMatch(text, /SDK_PACKAGES|pip install/, "the user's base brings its own SDK");
  assert.doesNotMatch(text, /image\.title=/, "the image is the user's, not certrole-python");

  const generic = await dockerfile(["--base", "docker.io/library/debian:12"]);
  assert.equal(generic.code, 0, generic.stderr);
  assert.match(generic.stdout, /^STOPSIGNAL SIGTERM$/m);
  assert.match(generic.stdout, /^ENTRYPOINT \["\/usr\/local\/bin\/certrole", "exec", "--"\]$/m);
  assert.doesNotMatch(generic.stdout, /^CMD /m, "generic: the application sets its CMD");
  const node = await dockerfile(["--base", "docker.io/library/node:22", "--runtime", "node"]);
  assert.match(node.stdout, /^COPY entrypoints\/node-pid1-signals\.cjs \/usr\/local\/lib\/certrole\//m);
});

Deno.test(
  { name: "--supervise and --no-supervise: every runtime in both modes, each mode's STOPSIGNAL", ignore: !SUPERVISE },
  async () => {
    const replaceStop: Record<string, string> = {
      "aws-cli": "SIGINT", // Python as PID 1 drops SIGTERM
      python: "SIGINT",
      node: "SIGTERM", // handled by the preload
      ruby: "SIGTERM", // Ruby handles it
      generic: "SIGTERM",
    };
    const preload = /^ {4}NODE_OPTIONS="--require \/usr\/local\/lib\/certrole\/node-pid1-signals\.cjs"$/m;
    for (const [runtime, stop] of Object.entries(replaceStop)) {
      const wraps = runtime === "aws-cli" ? ', "aws"' : "";
      const base = ["--base", "docker.io/library/debian:12", "--runtime", runtime];
      const supervised = await dockerfile([...base, "--supervise"]);
      assert.equal(supervised.code, 0, supervised.stderr);
      assert.match(
        supervised.stdout,
        new RegExp(`^ENTRYPOINT \\["/usr/local/bin/certrole", "exec", "--supervise", "--"${wraps}\\]$`, "m"),
        runtime,
      );
      assert.match(supervised.stdout, /^STOPSIGNAL SIGTERM$/m, `${runtime} supervised`);
      assert.doesNotMatch(supervised.stdout, /^ +NODE_OPTIONS=/m, `${runtime} supervised: no preload`);
      assert.match(supervised.stdout, /^# Written by `certrole image dockerfile .* --supervise`/);

      const replaced = await dockerfile([...base, "--no-supervise"]);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.match(
        replaced.stdout,
        new RegExp(`^ENTRYPOINT \\["/usr/local/bin/certrole", "exec", "--"${wraps}\\]$`, "m"),
        runtime,
      );
      assert.match(replaced.stdout, new RegExp(`^STOPSIGNAL ${stop}$`, "m"), `${runtime} replaced`);
      if (runtime === "node") assert.match(replaced.stdout, preload, "node in replace mode preloads its handler");
      else assert.doesNotMatch(replaced.stdout, /^ +NODE_OPTIONS=/m, runtime);
      assert.match(replaced.stdout, /^# Written by `certrole image dockerfile .* --no-supervise`/);
    }
  },
);

Deno.test("for a variant's own base and runtime it prints what images/<variant>/Dockerfile holds", async () => {
  const { variants } = parseVariants(await Deno.readTextFile(`${ROOT}/images/variants.json`));
  for (const variant of variants) {
    const result = await dockerfile(["--base", variant.baseImage, "--runtime", variant.entrypoint]);
    assert.equal(result.code, 0, result.stderr);
    const committed = await Deno.readTextFile(`${ROOT}/images/${variant.name}/Dockerfile`);
    assert.equal(sharedPart(result.stdout), sharedPart(committed), variant.name);
  }
});

Deno.test("image dockerfile: bad input is one line with the fix, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [[], /^certrole: image dockerfile needs --base IMAGE/],
    [["--base", "python:3.12"], /short name, .*name the registry \(docker\.io\/library\/python:3\.12\)/],
    [["--base", "docker.io/library/python:3.12-alpine"], /musl-based \(Alpine\).*choose a glibc base/],
    [["--base", "docker.io/library/debian:12", "--runtime", "java"], /--runtime must be one of aws-cli, generic, node/],
    [
      ["--base", "docker.io/library/debian:12", "--runtime", "sidecar", "--no-supervise"],
      /--runtime sidecar runs `certrole serve`, not exec: leave out --supervise\/--no-supervise/,
    ],
  ];
  if (!SUPERVISE) {
    cases.push([
      ["--base", "docker.io/library/debian:12", "--supervise"],
      /--supervise needs `certrole exec --supervise`/,
    ]);
  }
  for (const [args, message] of cases) {
    const result = await dockerfile(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.equal(result.stdout, "");
  }
  const elsewhere = await dockerfile(["--base", "docker.io/library/debian:12"], await tempDir());
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.stderr, /no Dockerfile\.template in \.: run this in certrole's source tree or pass --root/);
});
