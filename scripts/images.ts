/**
 * `make images` and `make images-offline`: renders images/<variant>/Dockerfile from
 * Dockerfile.template, then builds every variant (or those named) with docker when an engine
 * answers, else podman, else buildah, showing each build's steps and, at the end, the images and
 * their sizes. A failed build shows the last lines of its log. `--help` lists the options (USAGE).
 *
 * Environment: ENGINE, BUILD_MODE (same as the flags). Full build logs go to .scratch/images/.
 */
import $ from "dax-sh";
import { parseArgs } from "node:util";
import { command as renderCommand } from "../cli/commands/image_render.ts";
import { parseVariants, shortNameProblem } from "../cli/images/render.ts";
import { VERSION } from "../cli/version.ts";
import { BUILD_ENV, buildArgv, type Engine, imageSize, isProgressLine, pickEngine } from "./container_engine.ts";
import {
  buildLocalBase,
  ensureDebian,
  lastLines,
  LOCAL_BASES,
  LOCAL_DENO_BUILDER,
  podmanEnv,
  STATE_DIR,
} from "./local_images.ts";

const USAGE = `Usage: make images [ARGS="..."]   (deno run -A scripts/images.ts [options])

Renders images/<variant>/Dockerfile and builds the images, tagged PREFIX<variant>:${VERSION} and :latest.

Options:
  --engine docker|podman|buildah  default: docker when its engine answers, else podman, else buildah (ENGINE)
  --mode bundle|compile           BUILD_MODE, default bundle (what CI builds and runs); compile needs
                                  dl.deno.land and has never run in certrole's CI (BUILD_MODE)
  --variant NAME                  only this variant (repeatable): ${"{variants}"}
  --base VARIANT=IMAGE            another base for a variant (repeatable); fully qualified names only
  --deno-image IMAGE              the build stage's Deno image (fully qualified)
  --build-arg NAME=VALUE          any other build argument (repeatable), e.g. SDK_PACKAGES= when the base has the SDK
  --tag-prefix PREFIX             default certrole-
  --network MODE                  the builds' network, e.g. host
  --no-pull                       use only local images (podman/buildah --pull=never)
  --local-bases                   build without a registry (make images-offline): podman, local Debian bases
                                  (debootstrap, then local-bases/*.Dockerfile), a local Deno build image, the
                                  host's CA for npm, SDK_PACKAGES empty, host network, no pulls; cache in
                                  CERTROLE_IMAGES_DIR (default /var/tmp/certrole-images)
  --verbose                       every line of the build logs, not only the steps
  --help                          this text

Examples:
  make images ARGS="--engine podman --variant python --network host"
  make images ARGS="--base python=registry.example.com/python:3.13-slim --build-arg SDK_PACKAGES="
  make images-offline ARGS="--variant aws-cli"
`;

class UsageError extends Error {}

function options(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        engine: { type: "string", default: Deno.env.get("ENGINE") || undefined },
        mode: { type: "string", default: Deno.env.get("BUILD_MODE") || "bundle" },
        variant: { type: "string", multiple: true, default: [] },
        base: { type: "string", multiple: true, default: [] },
        "deno-image": { type: "string" },
        "build-arg": { type: "string", multiple: true, default: [] },
        "tag-prefix": { type: "string", default: "certrole-" },
        network: { type: "string" },
        "no-pull": { type: "boolean", default: false },
        "local-bases": { type: "boolean", default: false },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const logs = `${root}/.scratch/images`;

function pairs(list: readonly string[], what: string): Record<string, string> {
  return Object.fromEntries(list.map((item) => {
    const at = item.indexOf("=");
    if (at < 1) throw new UsageError(`${what} wants NAME=VALUE, not "${item}"`);
    return [item.slice(0, at), item.slice(at + 1)];
  }));
}

function qualified(image: string, what: string): string {
  const problem = shortNameProblem(image);
  if (problem) throw new UsageError(`${what} ${problem}`);
  return image;
}

async function revision(): Promise<string> {
  const result = await $`git -C ${root} rev-parse HEAD`.noThrow().quiet();
  return result.code === 0 ? result.stdout.trim() : "";
}

/** Runs one build, showing its steps; on failure the error carries the log's last lines. */
async function build(
  engine: Engine,
  argv: string[],
  env: Record<string, string>,
  log: string,
  label: string,
  verbose: boolean,
): Promise<void> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: { ...BUILD_ENV, ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const file = await Deno.open(log, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let tail = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      await file.write(encoder.encode(chunk));
      tail = (tail + chunk).slice(-20_000);
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (verbose) console.log(`  ${label} │ ${line}`);
        else if (isProgressLine(line)) {
          console.log(`  ${label} │ ${line.length > 110 ? `${line.slice(0, 107)}...` : line}`);
        }
      }
    }
  };
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = await child.status;
  file.close();
  if (!status.success) {
    const last = lastLines(tail, 25).split("\n").map((line) => `  ${label} │ ${line}`).join("\n");
    throw new Error(
      `${engine} build of ${label} failed (exit ${status.code}); the log ends:\n${last}\nfull log: ${log}`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const values = options(argv);
  const variantsJson = await Deno.readTextFile(`${root}/images/variants.json`);
  const { variants } = parseVariants(variantsJson);
  if (values.help) {
    console.log(USAGE.replace("{variants}", variants.map((variant) => variant.name).join(", ")));
    return 0;
  }
  const mode = values.mode!;
  if (mode !== "compile" && mode !== "bundle") throw new UsageError(`--mode must be bundle or compile, not "${mode}"`);
  const wanted = values.variant!.length ? values.variant! : variants.map((variant) => variant.name);
  const unknown = wanted.filter((name) => !variants.some((variant) => variant.name === name));
  if (unknown.length) throw new UsageError(`unknown variant(s) ${unknown.join(", ")}: see images/variants.json`);
  const bases = pairs(values.base!, "--base");
  for (const [variant, image] of Object.entries(bases)) qualified(image, `--base ${variant}:`);
  const extra = pairs(values["build-arg"]!, "--build-arg");
  let denoImage = values["deno-image"] ? qualified(values["deno-image"], "--deno-image") : undefined;
  let network = values.network;
  let pull = values["no-pull"] ? false : undefined;
  let env: Record<string, string> = {};
  let engineName = values.engine;

  if (values["local-bases"]) {
    if (engineName && engineName !== "podman") throw new UsageError("--local-bases builds with podman only");
    engineName = "podman";
    env = await podmanEnv({
      CONTAINERS_CONF: Deno.env.get("CONTAINERS_CONF"),
      CONTAINERS_STORAGE_CONF: Deno.env.get("CONTAINERS_STORAGE_CONF"),
    });
    const progress = (line: string) => console.log(`local bases: ${line}`);
    await ensureDebian(env, progress);
    for (const name of wanted) {
      if (bases[name]) continue;
      const local = LOCAL_BASES[name];
      if (!local) {
        throw new UsageError(`--local-bases has no local base for variant ${name}: pass --base ${name}=IMAGE`);
      }
      progress(`building ${local} (local-bases/${local}.Dockerfile)`);
      bases[name] = await buildLocalBase(local, env);
    }
    if (!denoImage) {
      progress(`building ${LOCAL_DENO_BUILDER} (local-bases/${LOCAL_DENO_BUILDER}.Dockerfile)`);
      denoImage = await buildLocalBase(LOCAL_DENO_BUILDER, env);
    }
    extra.SDK_PACKAGES ??= "";
    network ??= "host";
    pull = false;
  }

  await renderCommand.run({ values: { root }, sources: {}, positionals: [] });
  const engine = await pickEngine(engineName, env);
  await Deno.mkdir(logs, { recursive: true });
  console.log(`Building ${wanted.length} image(s) with ${engine}, BUILD_MODE=${mode}`);
  const results: { tag: string; size: number; seconds: number }[] = [];
  const created = new Date().toISOString();
  const commit = await revision();
  for (const [index, name] of wanted.entries()) {
    const tag = `${values["tag-prefix"]}${name}`;
    const label = `[${index + 1}/${wanted.length}] ${name}`;
    console.log(`${label}: building ${tag}:${VERSION}`);
    const started = performance.now();
    const variant = variants.find((candidate) => candidate.name === name)!;
    const argv = buildArgv(engine, {
      dockerfile: `${root}/images/${name}/Dockerfile`,
      context: root,
      tags: [`${tag}:${VERSION}`, `${tag}:latest`],
      buildArgs: {
        BUILD_MODE: mode,
        ...(bases[name] ? { BASE_IMAGE: bases[name] } : {}),
        ...(denoImage ? { DENO_IMAGE: denoImage } : {}),
        REVISION: commit,
        CREATED: created,
        // SDK_PACKAGES only where the Dockerfile declares it (the aws-cli base has nothing to add).
        ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== "SDK_PACKAGES" || variant.sdk)),
      },
      network,
      pull,
    });
    await build(engine, argv, env, `${logs}/${name}.log`, label, values.verbose!);
    const seconds = (performance.now() - started) / 1000;
    results.push({ tag: `${tag}:${VERSION}`, size: await imageSize(engine, `${tag}:${VERSION}`, env), seconds });
    console.log(`${label}: done in ${seconds.toFixed(1)} s`);
  }
  console.log("");
  console.log(`${"IMAGE".padEnd(32)} ${"SIZE".padStart(9)} ${"BUILD".padStart(8)}`);
  for (const { tag, size, seconds } of results) {
    const megabytes = Number.isFinite(size) ? `${(size / 1e6).toFixed(0)} MB` : "?";
    console.log(`${tag.padEnd(32)} ${megabytes.padStart(9)} ${`${seconds.toFixed(1)} s`.padStart(8)}`);
  }
  if (values["local-bases"]) {
    console.log(`\nThese images are in podman's storage as configured by (run them with the same):`);
    console.log(
      `  export CONTAINERS_CONF=${env.CONTAINERS_CONF} CONTAINERS_STORAGE_CONF=${env.CONTAINERS_STORAGE_CONF}`,
    );
    if (!Deno.env.get("CONTAINERS_CONF")) {
      console.log(`  (containers.conf written for this host: runc, ulimits; ${STATE_DIR})`);
    }
  }
  return 0;
}

try {
  Deno.exit(await main(Deno.args));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) {
    console.error(`make images: ${message}; see make images ARGS=--help`);
    Deno.exit(2);
  }
  console.error(`make images: ${message}`);
  Deno.exit(1);
}
