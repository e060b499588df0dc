/**
 * A deterministic run of the fuzz target (`make fuzz`, scripts/fuzz.ts): 2500 mutations of the
 * seed keys and certificates (RSA, EC P-256/P-384, ML-DSA-44/65/87; PKCS#8, PKCS#1, SEC1; PEM and
 * DER; PBES2 with PBKDF2 or scrypt, PBES1, legacy PEM encryption) through the identity loading
 * functions. Every failure is a one-line CertroleError and no input takes over 2 s; the
 * mutations reach past the parsers (some inputs still load, many different refusals). On a
 * failure, the findings are saved under the reported directory: replay one with
 * `deno run -A scripts/fuzz.ts --replay DIR/finding-1-N.json`.
 */
import assert from "node:assert/strict";
import { ROOT, tempDir } from "./support/run.ts";

const ITERATIONS = 2500;

Deno.test(`${ITERATIONS} mutated keys and certificates: only one-line CertroleErrors, none over 2 s`, async () => {
  const out = await tempDir("certrole-fuzz-");
  // A deadline, so an input that hangs (a 2^32-iteration key did) fails the test instead.
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-all",
      `${ROOT}/scripts/fuzz.ts`,
      "--seed",
      "1",
      "--iterations",
      String(ITERATIONS),
      "--slow-ms",
      "2000",
      "--json",
      "--out",
      out,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(180_000),
  }).output();
  const result = {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
  if (output.signal) {
    const current = await Deno.readTextFile(`${out}/current.json`).catch(() => "(none)");
    assert.fail(`the fuzz run was killed after 180 s, running ${current}\n${result.stderr}`);
  }
  const summary = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "{}");
  assert.deepEqual(summary.findings, [], `findings (saved in ${out}):\n${result.stderr}`);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(summary.iterations, ITERATIONS);
  assert.ok(summary.slowest.ms < 2000, `slowest input: ${JSON.stringify(summary.slowest)}`);
  const outcomes: Record<string, number> = summary.outcomes;
  assert.equal(outcomes.internal, undefined);
  assert.ok((outcomes.ok ?? 0) > ITERATIONS / 20, `some mutations still load: ${JSON.stringify(outcomes)}`);
  const refusals = Object.keys(outcomes).filter((outcome) => outcome !== "ok");
  assert.ok(refusals.length >= 8, `the mutations reach many checks: ${JSON.stringify(outcomes)}`);
  for (const code of ["InvalidCertificate", "InvalidPrivateKey", "WrongPassphrase", "KeyMismatch"]) {
    assert.ok(outcomes[code] > 0, `${code} among ${JSON.stringify(outcomes)}`);
  }
  await Deno.remove(out, { recursive: true });
});
