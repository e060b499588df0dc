/**
 * Reads the sources every certrole Dockerfile is rendered from, in certrole's source tree:
 * Dockerfile.template, images/variants.json and entrypoints/*.json. The I/O edge of render.ts.
 */
import { fail } from "../errors.ts";
import type { ImageInputs } from "./render.ts";

export async function readImageInputs(root: string): Promise<ImageInputs> {
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

/** `--root DIR` as given, without a trailing slash. */
export function rootFlag(value: unknown): string {
  return ((value as string | undefined) ?? ".").replace(/\/$/, "") || "/";
}
