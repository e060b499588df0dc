/** `certrole image render`: writes images/<variant>/Dockerfile from Dockerfile.template (or checks them). */
import type { Command } from "../command.ts";
import { writeStderr, writeStdout } from "../command.ts";
import { fail } from "../errors.ts";
import { type ImageInputs, renderImages } from "../images/render.ts";
import { RUNTIME_PERMISSIONS } from "../permissions.ts";
import { VERSION } from "../version.ts";

async function readInputs(root: string): Promise<ImageInputs> {
  let template: string;
  try {
    template = await Deno.readTextFile(`${root}/Dockerfile.template`);
  } catch {
    fail("NoImageSources", `no Dockerfile.template in ${root}: run this in certrole's source tree or pass --root`);
  }
  const entrypoints: Record<string, string> = {};
  for await (const entry of Deno.readDir(`${root}/entrypoints`)) {
    if (entry.isFile && entry.name.endsWith(".json")) {
      entrypoints[entry.name.slice(0, -5)] = await Deno.readTextFile(`${root}/entrypoints/${entry.name}`);
    }
  }
  return { template, variantsJson: await Deno.readTextFile(`${root}/images/variants.json`), entrypoints };
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

export const command: Command = {
  name: "image render",
  summary: "render images/<variant>/Dockerfile from Dockerfile.template (--check: fail when stale)",
  usage: "certrole image render [--root DIR] [--check]",
  description: `
Fills Dockerfile.template in for every variant of images/variants.json, with the variant's
entrypoint spec from entrypoints/<name>.json, and writes images/<variant>/Dockerfile with a
"generated, do not edit" header. A variant whose base image cannot run Deno (musl, no libc,
glibc older than 2.27) stops the render with the reason.

With --check nothing is written: the exit code is 1 when a committed Dockerfile differs from
what the template renders (CI runs this), 0 when all are current.`,
  flags: {
    root: { type: "string", value: "DIR", description: "certrole's source tree", default: "." },
    check: { type: "boolean", description: "compare instead of writing; exit 1 when a Dockerfile is stale" },
  },
  examples: ["certrole image render", "certrole image render --check"],
  async run(flags) {
    const root = ((flags.values.root as string | undefined) ?? ".").replace(/\/$/, "") || "/";
    const files = renderImages(await readInputs(root), { version: VERSION, permissions: RUNTIME_PERMISSIONS });
    const stale: string[] = [];
    for (const file of files) {
      const path = `${root}/${file.path}`;
      const current = await readOrUndefined(path);
      if (current === file.content) continue;
      if (flags.values.check) {
        stale.push(file.path);
        continue;
      }
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, file.content);
      writeStdout(`rendered ${file.path}\n`);
    }
    if (stale.length) {
      writeStderr(
        `certrole: ${stale.join(", ")} ${stale.length === 1 ? "differs" : "differ"} from Dockerfile.template: ` +
          "run `certrole image render` and commit the result\n",
      );
      return 1;
    }
    if (flags.values.check) writeStdout(`${files.length} Dockerfiles match Dockerfile.template\n`);
    return 0;
  },
};
