/**
 * Container start-up: the image carries Deno's caches for certrole, filled at build time
 * (scripts/image_code_cache.ts), so a fresh container's first `certrole exec` and the
 * `credential-process` the AWS CLI runs through its profile find every module there and add
 * nothing to DENO_DIR. Without them each container start parsed the whole bundle and compiled
 * what it ran (about 100 ms). Also prints, median of several interleaved runs: the bare base
 * running `true`, `certrole exec -- true` (preflight off) in the image, the same with an empty
 * DENO_DIR (what every container paid before), and the entrypoint the image ships, `exec
 * --supervise -- true` (its credential server started, so with its first CreateSession); the
 * bounds on the differences are generous safety nets, the numbers are the measurement.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { LOCAL_BASES } from "../scripts/local_images.ts";
import {
  buildFixture,
  buildVariant,
  containerName,
  ensureDebian,
  IMAGE_TESTS_SKIPPED,
  type ImagePki,
  makeImagePki,
  podman,
  podmanOk,
  withWalkthrough,
} from "./support/images.ts";
import { tempDir } from "./support/run.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined;
const DENO_DIR = "/home/certrole/.cache/deno";
let prepared: Promise<{ image: string; pki: ImagePki }> | undefined;
function prepare() {
  prepared ??= (async () => {
    await ensureDebian(console.log);
    return { image: await buildVariant("aws-cli"), pki: await makeImagePki() };
  })();
  return prepared;
}

/** The entries of one of Deno's cache databases, copied out of a container. */
function entries(dir: string, file: string, table: string): Set<string> {
  const db = new DatabaseSync(`${dir}/${file}`, { readOnly: false });
  try {
    const rows = db.prepare(`SELECT specifier, CAST(source_hash AS TEXT) AS source_hash FROM ${table}`).all() as {
      specifier: string;
      source_hash: string;
    }[];
    return new Set(rows.map((row) => `${row.specifier} ${row.source_hash}`));
  } finally {
    db.close();
  }
}

async function copyOut(container: string): Promise<string> {
  const dir = await tempDir();
  await podmanOk(["cp", `${container}:${DENO_DIR}`, `${dir}/deno`]);
  return `${dir}/deno`;
}

Deno.test({ name: "a fresh container's exec and credential-process hit the image's Deno caches", ignore }, async () => {
  const { image, pki } = await prepare();
  const pristine = containerName("cache-pristine");
  const used = containerName("cache-used");
  try {
    await podmanOk(["create", "--name", pristine, image]);
    const before = await copyOut(pristine);
    const code = entries(before, "v8_code_cache_v2", "codecache");
    const modules = entries(before, "dep_analysis_cache_v2", "moduleinfocache");
    for (const chunk of ["main", "exec", "credential_process"]) {
      const pattern = new RegExp(`^file:///usr/local/lib/certrole/lib/${chunk}(-[A-Z0-9]+)?\\.js `);
      assert.ok([...code].some((entry) => pattern.test(entry)), `the image's code cache has ${chunk}`);
    }
    assert.ok([...code].some((entry) => entry.startsWith("node:crypto ")), "and node:crypto (DES-EDE3 keys)");

    await withWalkthrough(pki, async (walkthrough) => {
      // The walkthrough's line: exec (preflight CreateSession), then the AWS CLI runs credential-process.
      const result = await podman(
        ["run", "--name", used, ...walkthrough.runArgs(), image, "s3", "ls", "--endpoint-url", walkthrough.endpoint],
        { env: walkthrough.secretEnv() },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /walkthrough-bucket/);
    });
    const after = await copyOut(used);
    const added = [...entries(after, "v8_code_cache_v2", "codecache")].filter((entry) => !code.has(entry));
    assert.deepEqual(added, [], "nothing compiled that the image had not cached");
    const parsed = [...entries(after, "dep_analysis_cache_v2", "moduleinfocache")].filter((e) => !modules.has(e));
    assert.deepEqual(parsed, [], "nothing parsed that the image had not cached");
  } finally {
    for (const name of [pristine, used]) await podman(["rm", "-f", name]);
  }
});

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(args: string[], env?: Record<string, string>): Promise<number> {
  const started = performance.now();
  const result = await podman(["run", "--rm", ...args], { env });
  assert.equal(result.code, 0, result.stderr);
  return performance.now() - started;
}

Deno.test({
  name: "start-up: exec -- true and exec --supervise -- true in the image vs the bare base (printed)",
  ignore,
}, async () => {
  const { image, pki } = await prepare();
  const base = await buildFixture(LOCAL_BASES["aws-cli"]);
  await withWalkthrough(pki, async (walkthrough) => {
    const exec = [
      ...walkthrough.runArgs(),
      "-e",
      "ROLESANYWHERE_PREFLIGHT=false",
      "--entrypoint",
      "/usr/local/bin/certrole",
    ];
    const runs = {
      // The same mount, environment and network, so only certrole's own start-up differs.
      bare: () => timed([...walkthrough.runArgs(), base, "true"], walkthrough.secretEnv()),
      warm: () => timed([...exec, image, "exec", "--", "true"], walkthrough.secretEnv()),
      cold: () => timed([...exec, "-e", "DENO_DIR=/tmp/deno", image, "exec", "--", "true"], walkthrough.secretEnv()),
      // The image's own ENTRYPOINT mode: the supervisor fetches credentials before it starts its server.
      supervise: () => timed([...exec, image, "exec", "--supervise", "--", "true"], walkthrough.secretEnv()),
    };
    const samples: Record<keyof typeof runs, number[]> = { bare: [], warm: [], cold: [], supervise: [] };
    for (const run of Object.values(runs)) await run(); // page cache, podman's own first-run costs
    // More rounds (CERTROLE_STARTUP_ROUNDS) for the README's numbers on a loaded machine.
    const rounds = Number(Deno.env.get("CERTROLE_STARTUP_ROUNDS") ?? 7);
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of Object.entries(runs)) samples[name as keyof typeof runs].push(await run());
    }
    const [bare, warm, cold, supervise] = [samples.bare, samples.warm, samples.cold, samples.supervise].map(median);
    const fastest = (name: keyof typeof runs) => Math.min(...samples[name]).toFixed(0);
    console.log(
      `container start-up, median of ${rounds} (podman run --rm; fastest in brackets): bare base \`true\` ${
        bare.toFixed(0)
      } ms ` +
        `[${fastest("bare")}]; certrole exec -- true (preflight off) ${warm.toFixed(0)} ms (+${
          (warm - bare).toFixed(0)
        }) ` +
        `[${fastest("warm")}]; with an empty DENO_DIR, as before the image carried its cache: ${cold.toFixed(0)} ms ` +
        `(+${(cold - bare).toFixed(0)}) [${
          fastest("cold")
        }]; the shipped entrypoint, certrole exec --supervise -- true ` +
        `(with its CreateSession): ${supervise.toFixed(0)} ms (+${(supervise - bare).toFixed(0)}) [${
          fastest("supervise")
        }]`,
    );
    assert.ok(warm - bare < 1500, `certrole adds ${warm - bare} ms to a container start`);
    assert.ok(supervise - bare < 3000, `certrole exec --supervise adds ${supervise - bare} ms to a container start`);
  });
});
