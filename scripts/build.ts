/**
 * Builds certrole without `deno compile`: bundles cli/main.ts with code splitting (so each
 * command loads only its own code) into OUT/lib and writes the OUT/certrole launcher.
 *
 *   deno run -A scripts/build.ts [--out dist] [--deno PATH_OF_DENO_AT_RUNTIME] [--self PATH_OF_LAUNCHER_AT_RUNTIME]
 *   deno run -A scripts/build.ts --prefix PREFIX [--destdir DIR]
 *   deno run -A scripts/build.ts --image-root DIR
 *
 * `--prefix PREFIX` (`make install`) installs PREFIX/bin/certrole (the launcher), PREFIX/lib/certrole/deno
 * (this Deno binary) and PREFIX/lib/certrole/lib (the bundle); with --destdir DIR the files are
 * written below DIR, as packagers stage them. The launcher names PREFIX paths only, never the clone.
 * `--image-root DIR` is `--prefix /usr/local --destdir DIR`: the container images' bundle mode,
 * laid out under DIR exactly as the files will sit in the image.
 */
import { parseArgs } from "node:util";
import { launcherScript } from "../cli/build/launcher.ts";

/** Where an installation under PREFIX puts certrole's three parts. */
export function installPaths(prefix: string): { launcher: string; deno: string; lib: string } {
  const root = prefix === "/" ? "" : prefix;
  return { launcher: `${root}/bin/certrole`, deno: `${root}/lib/certrole/deno`, lib: `${root}/lib/certrole/lib` };
}

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "dist" },
    deno: { type: "string" },
    self: { type: "string" },
    lib: { type: "string" },
    "image-root": { type: "string" },
    prefix: { type: "string" },
    destdir: { type: "string" },
  },
});
const root = new URL("..", import.meta.url).pathname;
const absolute = (path: string) => path.startsWith("/") ? path : `${root}${path}`;

async function bundle(lib: string): Promise<void> {
  await Deno.remove(lib, { recursive: true }).catch(() => {});
  // Deno.Command, not dax: dax's runner writes cursor moves ("\e[0G") around a command's output
  // whenever any of stdin/stdout/stderr is a terminal, so `make install | cat -v` showed them.
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "--code-splitting", "--outdir", lib, `${root}cli/main.ts`],
    cwd: root,
    stdin: "null",
  }).spawn().status;
  if (code !== 0) throw new Error(`deno bundle exited with ${code}`);
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

/** Installs under PREFIX (written below DESTDIR when given); returns the launcher's path. */
async function install(prefix: string, destdir = ""): Promise<string> {
  const paths = installPaths(prefix);
  await Deno.mkdir(`${destdir}${prefix}/bin`, { recursive: true });
  await Deno.mkdir(`${destdir}${prefix}/lib/certrole`, { recursive: true });
  await bundle(`${destdir}${paths.lib}`);
  // Copy to a temporary name first: the installed Deno may be the one running this script.
  await Deno.copyFile(Deno.execPath(), `${destdir}${paths.deno}.new`);
  await Deno.chmod(`${destdir}${paths.deno}.new`, 0o755);
  await Deno.rename(`${destdir}${paths.deno}.new`, `${destdir}${paths.deno}`);
  await writeLauncher(`${destdir}${paths.launcher}`, paths.deno, `${paths.lib}/main.js`, paths.launcher);
  return paths.launcher;
}

const imageRoot = values["image-root"];
if (imageRoot) {
  const base = absolute(imageRoot).replace(/\/$/, "");
  const launcher = await install("/usr/local", base);
  console.error(`laid out bundle mode under ${base} (launcher ${launcher})`);
} else if (values.prefix) {
  if (!values.prefix.startsWith("/")) {
    console.error(`PREFIX must be an absolute path, not "${values.prefix}": e.g. make install PREFIX="$HOME/.local"`);
    Deno.exit(2);
  }
  const prefix = values.prefix.replace(/\/$/, "") || "/";
  const destdir = values.destdir ? absolute(values.destdir).replace(/\/$/, "") : "";
  try {
    console.error(`installed ${destdir}${await install(prefix, destdir)}`);
  } catch (error) {
    if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
    console.error(`cannot write to ${destdir}${prefix} (${error.message}): pick a PREFIX you can write, e.g. ~/.local`);
    Deno.exit(1);
  }
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
  console.error(`built ${launcher} (bundle in ${lib})`);
}
