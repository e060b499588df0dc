/** `certrole image render`: writes images/<variant>/Dockerfile from Dockerfile.template (or checks them). */
import type { Command } from "../command.ts";
import { writeStderr, writeStdout } from "../command.ts";
import { renderImages } from "../images/render.ts";
import { readImageInputs, rootFlag } from "../images/sources.ts";
import { RUNTIME_PERMISSIONS } from "../permissions.ts";
import { VERSION } from "../version.ts";

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

const GENERATED = "# GENERATED FILE, DO NOT EDIT: `certrole image render`";

/** Folders under images/ that no variant renders into: [folder, only a generated Dockerfile in it]. */
async function leftoverFolders(root: string, variants: ReadonlySet<string>): Promise<[string, boolean][]> {
  const found: [string, boolean][] = [];
  for await (const entry of Deno.readDir(`${root}/images`)) {
    if (!entry.isDirectory || variants.has(entry.name)) continue;
    const names: string[] = [];
    for await (const inner of Deno.readDir(`${root}/images/${entry.name}`)) names.push(inner.name);
    const dockerfile = await readOrUndefined(`${root}/images/${entry.name}/Dockerfile`);
    found.push([entry.name, names.length === 1 && dockerfile?.startsWith(GENERATED) === true]);
  }
  return found.sort();
}

export const command: Command = {
  name: "image render",
  summary: "for certrole's maintainers: re-render this repository's images/<variant>/Dockerfile (--check: CI's)",
  usage: "certrole image render [--root DIR] [--check]",
  description: `
For certrole's maintainers, in certrole's source tree: it rewrites the committed Dockerfiles of
certrole's own images (make images runs it, CI runs --check). To put certrole on your own base
image, use \`certrole image dockerfile\` instead.

Fills Dockerfile.template in for every variant of images/variants.json, with the variant's
entrypoint spec from entrypoints/<name>.json, and writes images/<variant>/Dockerfile with a
"generated, do not edit" header. A variant whose base image cannot run Deno (musl, no libc,
glibc older than 2.27) or is not fully qualified stops the render with the reason. The folder of
a variant that no longer exists is removed when it holds only its generated Dockerfile.

With --check nothing is written: the exit code is 1 when a committed Dockerfile differs from
what the template renders, or a folder under images/ belongs to no variant (CI runs this), 0
when all are current.`,
  flags: {
    root: { type: "string", value: "DIR", description: "certrole's source tree", default: "." },
    check: { type: "boolean", description: "compare instead of writing; exit 1 when a Dockerfile is stale" },
  },
  examples: ["certrole image render", "certrole image render --check"],
  async run(flags) {
    const root = rootFlag(flags.values.root);
    const inputs = await readImageInputs(root);
    const files = renderImages(inputs, { version: VERSION, permissions: RUNTIME_PERMISSIONS });
    const check = flags.values.check === true;
    const stale: string[] = [];
    for (const file of files) {
      const path = `${root}/${file.path}`;
      const current = await readOrUndefined(path);
      if (current === file.content) continue;
      if (check) {
        stale.push(file.path);
        continue;
      }
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, file.content);
      writeStdout(`rendered ${file.path}\n`);
    }
    const variants = new Set(files.map((file) => file.path.split("/")[1]));
    const leftovers: string[] = [];
    for (const [folder, onlyGenerated] of await leftoverFolders(root, variants)) {
      if (!check && onlyGenerated) {
        await Deno.remove(`${root}/images/${folder}`, { recursive: true });
        writeStdout(`removed images/${folder}/ (no variant "${folder}" in images/variants.json)\n`);
      } else {
        leftovers.push(`images/${folder}/`);
      }
    }
    if (stale.length) {
      writeStderr(
        `certrole: ${stale.join(", ")} ${stale.length === 1 ? "differs" : "differ"} from Dockerfile.template: ` +
          "run `certrole image render` and commit the result\n",
      );
    }
    if (leftovers.length) {
      writeStderr(
        `certrole: ${leftovers.join(", ")} ${leftovers.length === 1 ? "belongs" : "belong"} to no variant of ` +
          "images/variants.json: delete it and commit (`certrole image render` removes a folder that holds only its " +
          "generated Dockerfile)\n",
      );
    }
    if (stale.length || leftovers.length) return 1;
    if (check) writeStdout(`${files.length} Dockerfiles match Dockerfile.template\n`);
    return 0;
  },
};
