/**
 * Builds certrole without `deno compile`: bundles cli/main.ts with code splitting (so each
 * command loads only its own code) into OUT/lib and writes the OUT/certrole launcher.
 *
 *   deno run -A scripts/build.ts [--out dist] [--deno PATH_OF_DENO_AT_RUNTIME] [--self PATH_OF_LAUNCHER_AT_RUNTIME]
 */
import $ from "dax-sh";
import { parseArgs } from "node:util";
import { launcherScript } from "../cli/build/launcher.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "dist" },
    deno: { type: "string" },
    self: { type: "string" },
    lib: { type: "string" },
  },
});
const root = new URL("..", import.meta.url).pathname;
const out = values.out!.startsWith("/") ? values.out! : `${root}${values.out}`;
const lib = `${out}/lib`;
await Deno.remove(lib, { recursive: true }).catch(() => {});
await $`${Deno.execPath()} bundle --quiet --platform deno --code-splitting --outdir ${lib} ${root}cli/main.ts`.cwd(
  root,
);
const launcher = `${out}/certrole`;
await Deno.writeTextFile(
  launcher,
  launcherScript(values.deno ?? Deno.execPath(), `${values.lib ?? lib}/main.js`, values.self ?? launcher),
  { mode: 0o755 },
);
await Deno.chmod(launcher, 0o755);
$.log(`built ${launcher} (bundle in ${lib})`);
