/**
 * Builds certrole without `deno compile`: bundles cli/main.ts with code splitting (so each
 * command loads only its own code) into OUT/lib and writes the OUT/certrole launcher.
 *
 *   deno run -A scripts/build.ts [--out dist] [--deno PATH_OF_DENO_AT_RUNTIME] [--self PATH_OF_LAUNCHER_AT_RUNTIME]
 *   deno run -A scripts/build.ts --image-root DIR
 *
 * `--image-root DIR` lays out the container images' bundle mode under DIR exactly as the files will
 * sit in the image: DIR/usr/local/bin/certrole (the launcher), DIR/usr/local/lib/certrole/deno (this
 * Deno binary) and DIR/usr/local/lib/certrole/lib (the bundle).
 */
import $ from "dax-sh";
import { parseArgs } from "node:util";
import { launcherScript } from "../cli/build/launcher.ts";

/** Where bundle mode puts certrole inside an image (Dockerfile.template copies DIR to /). */
export const IMAGE_PATHS = {
  launcher: "/usr/local/bin/certrole",
  deno: "/usr/local/lib/certrole/deno",
  lib: "/usr/local/lib/certrole/lib",
} as const;

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "dist" },
    deno: { type: "string" },
    self: { type: "string" },
    lib: { type: "string" },
    "image-root": { type: "string" },
  },
});
const root = new URL("..", import.meta.url).pathname;
const absolute = (path: string) => path.startsWith("/") ? path : `${root}${path}`;

async function bundle(lib: string): Promise<void> {
  await Deno.remove(lib, { recursive: true }).catch(() => {});
  await $`${Deno.execPath()} bundle --quiet --platform deno --code-splitting --outdir ${lib} ${root}cli/main.ts`.cwd(
    root,
  );
  await dropEagerRuntimeImports(lib);
}

/**
 * esbuild keeps its runtime helpers in one chunk, which builds `require` for the CommonJS npm
 * code (the AWS SDK, in the iam and emulator commands) with `createRequire` from node:module,
 * and every chunk imports that chunk for its side effects. Loading node:module costs about 20 ms,
 * the whole start-up budget of a cached credential-process. The helper chunk has no side effects
 * beyond defining the helpers, and chunks that use a helper import it by name, so the bare
 * side-effect imports are dropped: only commands that need `require` pay for it.
 */
async function dropEagerRuntimeImports(lib: string): Promise<void> {
  const files = [...Deno.readDirSync(lib)].filter((entry) => entry.name.endsWith(".js")).map((entry) => entry.name);
  const runtime = files.filter((name) => /from "node:module"/.test(Deno.readTextFileSync(`${lib}/${name}`)));
  for (const name of files) {
    const path = `${lib}/${name}`;
    const text = Deno.readTextFileSync(path);
    let changed = text;
    for (const chunk of runtime) changed = changed.replaceAll(`import "./${chunk}";\n`, "");
    if (changed !== text) await Deno.writeTextFile(path, changed);
  }
}

async function writeLauncher(path: string, denoPath: string, mainPath: string, selfPath: string): Promise<void> {
  await Deno.writeTextFile(path, launcherScript(denoPath, mainPath, selfPath), { mode: 0o755 });
  await Deno.chmod(path, 0o755);
}

const imageRoot = values["image-root"];
if (imageRoot) {
  const base = absolute(imageRoot).replace(/\/$/, "");
  await Deno.mkdir(`${base}/usr/local/bin`, { recursive: true });
  await Deno.mkdir(`${base}/usr/local/lib/certrole`, { recursive: true });
  await bundle(`${base}${IMAGE_PATHS.lib}`);
  await Deno.copyFile(Deno.execPath(), `${base}${IMAGE_PATHS.deno}`);
  await Deno.chmod(`${base}${IMAGE_PATHS.deno}`, 0o755);
  await writeLauncher(
    `${base}${IMAGE_PATHS.launcher}`,
    IMAGE_PATHS.deno,
    `${IMAGE_PATHS.lib}/main.js`,
    IMAGE_PATHS.launcher,
  );
  $.log(`laid out bundle mode under ${base} (launcher ${IMAGE_PATHS.launcher})`);
} else {
  const out = absolute(values.out!);
  const lib = `${out}/lib`;
  await bundle(lib);
  const launcher = `${out}/certrole`;
  await writeLauncher(
    launcher,
    values.deno ?? Deno.execPath(),
    `${values.lib ?? lib}/main.js`,
    values.self ?? launcher,
  );
  $.log(`built ${launcher} (bundle in ${lib})`);
}
