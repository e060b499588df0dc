/**
 * `make images`: renders images/<variant>/Dockerfile from Dockerfile.template, then builds every
 * variant (or those named) with docker when an engine answers, else podman, else buildah, showing
 * each build's steps and, at the end, the images and their sizes.
 *
 *   deno run -A scripts/images.ts [--engine docker|podman|buildah] [--mode compile|bundle]
 *     [--variant NAME]... [--base VARIANT=IMAGE]... [--deno-image IMAGE] [--build-arg NAME=VALUE]...
 *     [--tag-prefix certrole-] [--network host] [--no-pull] [--verbose]
 *
 * Environment: ENGINE, BUILD_MODE (same as the flags). Full build logs go to .scratch/images/.
 */
import $ from "dax-sh";
import { parseArgs } from "node:util";
import { command as renderCommand } from "../cli/commands/image_render.ts";
import { parseVariants } from "../cli/images/render.ts";
import { VERSION } from "../cli/version.ts";
import { BUILD_ENV, buildArgv, type Engine, imageSize, isProgressLine, pickEngine } from "./container_engine.ts";

const { values } = parseArgs({
  options: {
    engine: { type: "string", default: Deno.env.get("ENGINE") || undefined },
    mode: { type: "string", default: Deno.env.get("BUILD_MODE") || "compile" },
    variant: { type: "string", multiple: true, default: [] },
    base: { type: "string", multiple: true, default: [] },
    "deno-image": { type: "string" },
    "build-arg": { type: "string", multiple: true, default: [] },
    "tag-prefix": { type: "string", default: "certrole-" },
    network: { type: "string" },
    "no-pull": { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});
const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const logs = `${root}/.scratch/images`;

function pairs(list: readonly string[], what: string): Record<string, string> {
  return Object.fromEntries(list.map((item) => {
    const at = item.indexOf("=");
    if (at < 1) throw new Error(`${what} wants NAME=VALUE, not "${item}"`);
    return [item.slice(0, at), item.slice(at + 1)];
  }));
}

async function revision(): Promise<string> {
  const result = await $`git -C ${root} rev-parse HEAD`.noThrow().quiet();
  return result.code === 0 ? result.stdout.trim() : "";
}

async function build(engine: Engine, argv: string[], log: string, label: string): Promise<void> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: BUILD_ENV,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const file = await Deno.open(log, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      await file.write(encoder.encode(chunk));
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (values.verbose) console.log(`  ${label} │ ${line}`);
        else if (isProgressLine(line)) {
          console.log(`  ${label} │ ${line.length > 110 ? `${line.slice(0, 107)}...` : line}`);
        }
      }
    }
  };
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = await child.status;
  file.close();
  if (!status.success) throw new Error(`${engine} build of ${label} failed (exit ${status.code}); log: ${log}`);
}

if (values.mode !== "compile" && values.mode !== "bundle") {
  console.error(`--mode must be compile or bundle, not ${values.mode}`);
  Deno.exit(2);
}
try {
  await renderCommand.run({ values: { root }, sources: {}, positionals: [] });
  const { variants } = parseVariants(await Deno.readTextFile(`${root}/images/variants.json`));
  const wanted = values.variant!.length ? values.variant! : variants.map((variant) => variant.name);
  const unknown = wanted.filter((name) => !variants.some((variant) => variant.name === name));
  if (unknown.length) throw new Error(`unknown variant(s) ${unknown.join(", ")}: see images/variants.json`);
  const bases = pairs(values.base!, "--base");
  const extra = pairs(values["build-arg"]!, "--build-arg");
  const engine = await pickEngine(values.engine);
  await Deno.mkdir(logs, { recursive: true });
  console.log(`Building ${wanted.length} image(s) with ${engine}, BUILD_MODE=${values.mode}`);
  const results: { tag: string; size: number; seconds: number }[] = [];
  const created = new Date().toISOString();
  const commit = await revision();
  for (const [index, name] of wanted.entries()) {
    const tag = `${values["tag-prefix"]}${name}`;
    const label = `[${index + 1}/${wanted.length}] ${name}`;
    console.log(`${label}: building ${tag}:${VERSION}`);
    const started = performance.now();
    const argv = buildArgv(engine, {
      dockerfile: `${root}/images/${name}/Dockerfile`,
      context: root,
      tags: [`${tag}:${VERSION}`, `${tag}:latest`],
      buildArgs: {
        BUILD_MODE: values.mode!,
        ...(bases[name] ? { BASE_IMAGE: bases[name] } : {}),
        ...(values["deno-image"] ? { DENO_IMAGE: values["deno-image"] } : {}),
        REVISION: commit,
        CREATED: created,
        ...extra,
      },
      network: values.network,
      pull: values["no-pull"] ? false : undefined,
    });
    await build(engine, argv, `${logs}/${name}.log`, label);
    const seconds = (performance.now() - started) / 1000;
    results.push({ tag: `${tag}:${VERSION}`, size: await imageSize(engine, `${tag}:${VERSION}`), seconds });
    console.log(`${label}: done in ${seconds.toFixed(1)} s`);
  }
  console.log("");
  console.log(`${"IMAGE".padEnd(32)} ${"SIZE".padStart(9)} ${"BUILD".padStart(8)}`);
  for (const { tag, size, seconds } of results) {
    const megabytes = Number.isFinite(size) ? `${(size / 1e6).toFixed(0)} MB` : "?";
    console.log(`${tag.padEnd(32)} ${megabytes.padStart(9)} ${`${seconds.toFixed(1)} s`.padStart(8)}`);
  }
} catch (error) {
  console.error(`make images: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
}
