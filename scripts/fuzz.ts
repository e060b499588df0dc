/**
 * `make fuzz`: mutates the seed keys and certificates (tests/fixtures/fuzz-seeds/, every encoding
 * certrole reads) and runs each input through the identity loading functions
 * (scripts/fuzz/targets.ts). A finding is any failure that is not a one-line CertroleError, or
 * any input slower than --slow-ms; each is saved with its metadata under --out, and the input
 * being run is always at OUT/current-input, so a hang or a crash leaves it behind too.
 *
 *   deno run -A scripts/fuzz.ts [--seed N] [--iterations N] [--slow-ms 2000] [--out DIR] [--json]
 *   deno run -A scripts/fuzz.ts --replay OUT/finding-123.json
 *
 * The same seed and iteration count give the same inputs. Exits 1 when there are findings.
 */
import { parseArgs } from "node:util";
import { decryptLegacyPem, decryptPkcs8 } from "../cli/identity/key_encryption.ts";
import { looksLikePem, parsePem } from "../cli/identity/pem.ts";
import type { Passphrase } from "../cli/identity/passphrase.ts";
import { donorTrees, mutateFile, type Plaintext, Random } from "./fuzz/mutate.ts";
import { type LoadedSeed, loadSeeds, SEED_DIR } from "./fuzz/seeds.ts";
import { type Outcome, runTarget, targetContext } from "./fuzz/targets.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    iterations: { type: "string", default: "10000" },
    "slow-ms": { type: "string", default: "2000" },
    out: { type: "string", default: new URL("../.scratch/fuzz", import.meta.url).pathname },
    json: { type: "boolean", default: false },
    replay: { type: "string" },
  },
});
const SEED = Number(values.seed);
const ITERATIONS = Number(values.iterations);
const SLOW_MS = Number(values["slow-ms"]);
const OUT = values.out!;
if (![SEED, ITERATIONS, SLOW_MS].every(Number.isSafeInteger)) {
  console.error("fuzz: --seed, --iterations and --slow-ms take whole numbers");
  Deno.exit(2);
}

interface InputMeta {
  readonly fuzzSeed: number;
  readonly index: number;
  readonly seedFile: string;
  readonly passphrase: "right" | "wrong" | "none";
  readonly input: string;
  ms?: number;
  outcome?: Outcome;
}

const corpus = await loadSeeds();
const now = new Date(corpus.now);
await Deno.mkdir(OUT, { recursive: true });
const context = await targetContext(SEED_DIR, OUT, now);
const passphrases: Record<InputMeta["passphrase"], Passphrase | undefined> = {
  right: { value: corpus.passphrase, source: "the fuzz corpus" },
  wrong: { value: `${corpus.passphrase}-not`, source: "the fuzz corpus" },
  none: undefined,
};

async function timed(seed: LoadedSeed, path: string, passphrase: InputMeta["passphrase"]) {
  const start = performance.now();
  const outcome = await runTarget(seed, path, passphrases[passphrase], context);
  return { outcome, ms: performance.now() - start };
}

if (values.replay) {
  const meta: InputMeta = JSON.parse(await Deno.readTextFile(values.replay));
  const seed = corpus.seeds.find((candidate) => candidate.file === meta.seedFile)!;
  const { outcome, ms } = await timed(seed, meta.input, meta.passphrase);
  console.log(`${meta.input} (from ${meta.seedFile}, passphrase ${meta.passphrase}): ${Math.round(ms)} ms`);
  console.log(outcome.kind === "internal" ? outcome.error : JSON.stringify(outcome));
  Deno.exit(outcome.kind === "internal" || ms > SLOW_MS ? 1 : 0);
}

// Every seed must load untouched: otherwise the harness, not the parser, is broken.
for (const seed of corpus.seeds) {
  const { outcome } = await timed(seed, seed.path, "right");
  if (outcome.kind !== "ok") {
    console.error(`fuzz: seed ${seed.file} does not load: ${JSON.stringify(outcome)}`);
    Deno.exit(2);
  }
}

/** The decrypted DER of encrypted seeds, so mutations can reach the key parser behind the cipher. */
async function plaintextOf(seed: LoadedSeed): Promise<Plaintext | undefined> {
  if (!seed.encrypted) return undefined;
  const text = new TextDecoder().decode(seed.bytes);
  if (!looksLikePem(text)) return { der: await decryptPkcs8(seed.bytes, corpus.passphrase) };
  const [block] = parsePem(text);
  if (block.label === "ENCRYPTED PRIVATE KEY") return { der: await decryptPkcs8(block.bytes, corpus.passphrase) };
  return {
    der: await decryptLegacyPem(block.headers["DEK-Info"], block.bytes, corpus.passphrase),
    legacyLabel: block.label,
  };
}
const plaintexts = new Map(
  await Promise.all(corpus.seeds.map(async (seed) => [seed, await plaintextOf(seed)] as const)),
);
const donors = donorTrees(corpus.seeds.map((seed) => {
  const text = new TextDecoder().decode(seed.bytes);
  return looksLikePem(text) ? parsePem(text)[0].bytes : seed.bytes;
}));

const counts: Record<string, number> = {};
const findings: InputMeta[] = [];
let slowest = { ms: 0, index: -1, seedFile: "" };
const started = performance.now();
const currentInput = `${OUT}/current-input`;
for (let index = 0; index < ITERATIONS; index++) {
  const seed = corpus.seeds[index % corpus.seeds.length];
  const random = new Random(SEED, index);
  const input = await mutateFile(seed.bytes, random, {
    donors,
    plaintext: plaintexts.get(seed),
    passphrase: corpus.passphrase,
  });
  const passphrase = random.chance(0.06) ? "none" : random.chance(0.03) ? "wrong" : "right";
  const meta: InputMeta = { fuzzSeed: SEED, index, seedFile: seed.file, passphrase, input: currentInput };
  await Deno.writeFile(currentInput, input);
  await Deno.writeTextFile(`${OUT}/current.json`, JSON.stringify(meta));
  const { outcome, ms } = await timed(seed, currentInput, passphrase);
  const label = outcome.kind === "refused" ? outcome.code : outcome.kind;
  counts[label] = (counts[label] ?? 0) + 1;
  if (ms > slowest.ms) slowest = { ms: Math.round(ms), index, seedFile: seed.file };
  if (outcome.kind === "internal" || ms > SLOW_MS) {
    const saved = `${OUT}/finding-${SEED}-${index}${seed.file.slice(seed.file.lastIndexOf("."))}`;
    await Deno.writeFile(saved, input);
    const finding = { ...meta, input: saved, ms: Math.round(ms), outcome };
    await Deno.writeTextFile(`${OUT}/finding-${SEED}-${index}.json`, JSON.stringify(finding, null, 2) + "\n");
    findings.push(finding);
    const what = outcome.kind === "internal" ? outcome.error.split("\n")[0] : `slow: ${Math.round(ms)} ms`;
    console.error(`fuzz: input ${index} (from ${seed.file}): ${what}; saved ${saved}`);
  }
  if (!values.json && (index + 1) % 1000 === 0) {
    console.error(`fuzz: ${index + 1}/${ITERATIONS} inputs, ${findings.length} findings`);
  }
}
await Deno.remove(currentInput).catch(() => {});
await Deno.remove(`${OUT}/current.json`).catch(() => {});

const summary = {
  seed: SEED,
  iterations: ITERATIONS,
  seeds: corpus.seeds.length,
  seconds: Math.round(performance.now() - started) / 1000,
  slowest,
  outcomes: Object.fromEntries(Object.entries(counts).sort(([, a], [, b]) => b - a)),
  findings: findings.map(({ index, seedFile, input, ms, outcome }) => ({
    index,
    seedFile,
    input,
    ms,
    problem: outcome?.kind === "internal" ? outcome.error.split("\n")[0] : "slow",
  })),
};
if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  console.log(
    `fuzz: ${ITERATIONS} inputs from ${corpus.seeds.length} seeds (seed ${SEED}) in ${summary.seconds} s; ` +
      `slowest ${slowest.ms} ms (input ${slowest.index}, from ${slowest.seedFile}); ${findings.length} findings`,
  );
  for (const [outcome, count] of Object.entries(summary.outcomes)) {
    console.log(`  ${count.toString().padStart(6)}  ${outcome}`);
  }
  if (findings.length) {
    console.log(`replay one with: deno run -A scripts/fuzz.ts --replay ${OUT}/finding-${SEED}-N.json`);
  }
}
Deno.exit(findings.length ? 1 : 0);
