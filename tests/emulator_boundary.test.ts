/**
 * The emulator depends on the product one way: no module under cli/ outside cli/emulator/ imports
 * from cli/emulator/, statically or dynamically, except the `emulator` command's entry
 * (cli/commands/emulator.ts). Read from Deno's own module graph (`deno info --json`) over every
 * product module, so a module that no command reaches yet is covered too.
 */
import assert from "node:assert/strict";
import { graphOf } from "./support/module_graph.ts";
import { ROOT } from "./support/run.ts";

const EMULATOR = `file://${ROOT}/cli/emulator/`;
const ALLOWED = new Set([`file://${ROOT}/cli/commands/emulator.ts`]);

function productModules(dir = `${ROOT}/cli`): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory && `file://${path}/` !== EMULATOR) found.push(...productModules(path));
    else if (entry.isFile && entry.name.endsWith(".ts")) found.push(`file://${path}`);
  }
  return found;
}

/** "importer -> imported" for every product module that reaches into cli/emulator/. */
async function crossings(modules: string[], allowed: Set<string>): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "certrole-boundary-" });
  try {
    const entry = `${dir}/all_product_modules.ts`;
    await Deno.writeTextFile(entry, modules.map((module) => `import ${JSON.stringify(module)};\n`).join(""));
    const graph = await graphOf(entry);
    const seen = new Set(graph.modules.map((module) => module.specifier));
    for (const module of modules) assert.ok(seen.has(module), `${module} is missing from the module graph`);
    return graph.modules
      .filter((module) => modules.includes(module.specifier) && !allowed.has(module.specifier))
      .flatMap((module) =>
        (module.dependencies ?? [])
          .flatMap((dependency) => [dependency.code?.specifier, dependency.type?.specifier])
          .filter((target): target is string => target !== undefined)
          .filter((target) => target.startsWith(EMULATOR))
          .map((target) => `${module.specifier.slice(ROOT.length + 8)} -> ${target.slice(ROOT.length + 8)}`)
      );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("no product module imports from cli/emulator/ but the emulator command's entry", async () => {
  const modules = productModules();
  assert.ok(modules.includes(`file://${ROOT}/cli/commands/credential_process.ts`));
  assert.ok(!modules.some((module) => module.startsWith(EMULATOR)));
  assert.deepEqual(await crossings(modules, ALLOWED), []);
});

Deno.test("the boundary check sees an import into cli/emulator/: the emulator command's own", async () => {
  const found = await crossings([...ALLOWED], new Set());
  assert.ok(found.includes("cli/commands/emulator.ts -> cli/emulator/server.ts"), found.join(", "));
});
