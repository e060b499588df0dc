/**
 * @peculiar/x509 (≈230 ms to import) loads only when a pki command does its work: no command's
 * module, hence no `--help` and no `credential-process`, reaches it through static imports; the
 * credential path (credential-process, exec) reaches no PKI code at all, not even the certificate
 * rules the emulator and `pki check` share (the chain checks load on demand, after an "Untrusted
 * signing certificate" refusal, to name its cause). @noble/post-quantum (ML-DSA for keys without their
 * seed) loads only for such a key: the credential path reaches it through a dynamic import alone.
 * Read from Deno's own module graph (`deno info --json`).
 */
import assert from "node:assert/strict";
import { graphOf } from "./support/module_graph.ts";
import { ROOT, run } from "./support/run.ts";

/** Every specifier reachable from `entry`, following static imports only or dynamic ones too. */
async function reachable(entry: string, followDynamic: boolean): Promise<Set<string>> {
  const graph = await graphOf(entry);
  const edges = new Map(graph.modules.map((module) => [module.specifier, module.dependencies ?? []]));
  const seen = new Set<string>();
  const queue = [new URL(entry, `file://${ROOT}/`).href];
  while (queue.length) {
    const specifier = queue.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of edges.get(specifier) ?? []) {
      if (dependency.code && (followDynamic || !dependency.isDynamic)) queue.push(dependency.code.specifier);
    }
  }
  return seen;
}

const x509 = (modules: Set<string>) => [...modules].some((specifier) => specifier.includes("@peculiar/x509"));
const noble = (modules: Set<string>) => [...modules].some((specifier) => specifier.includes("@noble/"));

Deno.test("no command module imports @peculiar/x509 statically; the pki commands load it on demand", async () => {
  const commands = [...Deno.readDirSync(`${ROOT}/cli/commands`)].map((entry) => `cli/commands/${entry.name}`);
  assert.ok(commands.includes("cli/commands/pki_issue.ts"));
  for (const entry of ["cli/main.ts", ...commands]) {
    assert.equal(x509(await reachable(entry, false)), false, `${entry} imports @peculiar/x509 statically`);
  }
  for (const entry of ["cli/commands/pki_init_ca.ts", "cli/commands/pki_issue.ts"]) {
    assert.equal(x509(await reachable(entry, true)), true, `${entry} loads @peculiar/x509 when it runs`);
  }
});

Deno.test("credential-process and exec reach no PKI code: not the certificate rules, chain checks or emulator", async () => {
  const heavy = (specifier: string) =>
    specifier.includes("@peculiar/x509") || specifier.includes("/cli/pki/") ||
    specifier.endsWith("/cli/identity/roles_anywhere_rules.ts") || specifier.endsWith("/cli/identity/chain.ts") ||
    specifier.includes("/cli/emulator/");
  const chain = (specifier: string) => specifier.endsWith("/cli/identity/chain.ts");
  for (const entry of ["cli/commands/credential_process.ts", "cli/commands/exec.ts"]) {
    // The chain checks may load on demand only: after an "Untrusted signing certificate" refusal, to name its cause.
    const loaded = [...await reachable(entry, true)].filter((specifier) => heavy(specifier) && !chain(specifier));
    assert.deepEqual(loaded, [], `${entry} loads ${loaded.join(", ")}`);
    const eager = [...await reachable(entry, false)].filter(heavy);
    assert.deepEqual(eager, [], `${entry} imports ${eager.join(", ")} statically`);
  }
  assert.ok([...await reachable("cli/commands/pki_check.ts", false)].some(heavy), "the check sees where they are");
});

Deno.test("@noble/post-quantum is not a static import of any command; credential-process and exec reach it on demand", async () => {
  const commands = [...Deno.readDirSync(`${ROOT}/cli/commands`)].map((entry) => `cli/commands/${entry.name}`);
  for (const entry of ["cli/main.ts", ...commands]) {
    assert.equal(noble(await reachable(entry, false)), false, `${entry} imports @noble/ statically`);
  }
  for (const entry of ["cli/commands/credential_process.ts", "cli/commands/exec.ts"]) {
    assert.equal(noble(await reachable(entry, true)), true, `${entry} signs with an expanded-only ML-DSA key`);
  }
});

/** The bundled chunk files a chunk imports statically, transitively, and the node: builtins among them. */
function bundleClosure(lib: string, entry: string): { files: Set<string>; builtins: Set<string> } {
  const files = new Set<string>();
  const builtins = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const name = queue.pop()!;
    if (files.has(name)) continue;
    files.add(name);
    const text = Deno.readTextFileSync(`${lib}/${name}`);
    // Static imports only: `import ... from "x"` and `import "x"` at the start of a line.
    for (
      const match of text.matchAll(/^(?:import\s+(?:[^"']*?\s+from\s+)?|export\s+[^"']*?\s+from\s+)["']([^"']+)["']/gm)
    ) {
      if (match[1].startsWith("./")) queue.push(match[1].slice(2));
      else if (match[1].startsWith("node:")) builtins.add(match[1]);
    }
  }
  return { files, builtins };
}

Deno.test("the built bundle starts credential-process, exec and --help without loading any node: builtin", async () => {
  const dir = await Deno.makeTempDir();
  const built = await run(Deno.execPath(), ["run", "-A", `${ROOT}/scripts/build.ts`, "--out", dir]);
  assert.equal(built.code, 0, built.stderr);
  const lib = `${dir}/lib`;
  const names = [...Deno.readDirSync(lib)].map((entry) => entry.name);
  for (const prefix of ["main", "credential_process-", "exec-", "version-"]) {
    const entry = names.find((name) => name === `${prefix}.js` || (prefix.endsWith("-") && name.startsWith(prefix)))!;
    assert.ok(entry, `no ${prefix} chunk`);
    const { builtins } = bundleClosure(lib, entry);
    assert.deepEqual([...builtins], [], `${entry} loads ${[...builtins].join(", ")} at start-up`);
  }
  const emulator = names.find((name) => name.startsWith("emulator-"))!;
  assert.ok(
    bundleClosure(lib, emulator).builtins.size > 0,
    "the check sees builtins where they are (the emulator's AWS SDK code)",
  );
  const version = await run(`${dir}/certrole`, ["version"]);
  assert.equal(version.code, 0, version.stderr);
  await Deno.remove(dir, { recursive: true });
});
