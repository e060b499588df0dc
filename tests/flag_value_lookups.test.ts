/**
 * Values people type are looked up and range-checked, never trusted: a `--key-type` (or an
 * entrypoint name) named like a JavaScript object property (`constructor`, `__proto__`, `toString`,
 * `hasOwnProperty`) is an unknown value (an image variant's entrypoint names a missing spec), `--days`/`--hours` whose notAfter would pass
 * 9999-12-31 (X.509's last date; JavaScript's dates end sooner for larger numbers) and
 * durations past 100000 days are refused, each in one line naming the flag and what is valid,
 * and `pki init-ca --days 99999999` exits 2 with that line and writes nothing.
 */
import assert from "node:assert/strict";
import { CertroleError } from "../cli/errors.ts";
import { parseDuration } from "../cli/duration.ts";
import { parseKeyType } from "../cli/pki/key_type.ts";
import { validityMs } from "../cli/pki/issuance_flags.ts";
import { renderImages } from "../cli/images/render.ts";
import { readImageInputs } from "../cli/images/sources.ts";
import { certrole, ROOT, tempDir } from "./support/run.ts";

const PROPERTY_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf"];
const NOW = new Date("2026-12-01T00:00:00Z");

function flagsOf(values: Record<string, string>) {
  return { values, sources: {}, positionals: [] };
}

Deno.test("a --key-type named like an object property is an unknown key type, listing the valid ones", () => {
  for (const name of PROPERTY_NAMES) {
    assert.throws(() => parseKeyType(name), (error: unknown) => {
      assert.ok(error instanceof CertroleError, `${name}: ${error}`);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, new RegExp(`^--key-type "${name}" is not a key type .*: use rsa-2048, .*ml-dsa-87$`));
      return true;
    });
  }
  assert.equal(parseKeyType("EC P-256"), "ec-p256");
  assert.equal(parseKeyType("rsa:4096"), "rsa-4096");
});

Deno.test("a variant whose entrypoint is named like an object property names the missing spec file", async () => {
  const inputs = await readImageInputs(ROOT);
  for (const name of PROPERTY_NAMES) {
    const variants = JSON.parse(inputs.variantsJson);
    variants.variants[0].entrypoint = name;
    assert.throws(
      () => renderImages({ ...inputs, variantsJson: JSON.stringify(variants) }, { version: "0", permissions: [] }),
      (error: unknown) =>
        error instanceof CertroleError && error.message.endsWith(`entrypoints/${name}.json does not exist`),
      name,
    );
  }
});

Deno.test("--days and --hours stop at the last date X.509 can hold, and say the largest value that fits", () => {
  const lastDays = Math.floor((Date.UTC(9999, 11, 31, 23, 59, 59) - NOW.getTime()) / 86_400_000);
  assert.equal(validityMs(flagsOf({ days: String(lastDays) }), "days", NOW), lastDays * 86_400_000);
  for (const days of [String(lastDays + 1), "99999999", "9".repeat(30)]) {
    assert.throws(() => validityMs(flagsOf({ days }), "days", NOW), (error: unknown) => {
      assert.ok(error instanceof CertroleError, `${days}: ${error}`);
      assert.equal(
        error.message,
        `--days ${days} would end after 9999-12-31, the last date a certificate can hold: use at most ${lastDays}`,
      );
      return true;
    });
  }
  assert.throws(
    () => validityMs(flagsOf({ hours: "99999999999" }), "hours", NOW),
    /^CertroleError: --hours 99999999999 would end after 9999-12-31.*use at most \d+$/,
  );
  assert.equal(validityMs(flagsOf({}), "days", NOW, 1095), 1095 * 86_400_000);
});

Deno.test("a duration past 100000 days (or past what a number holds) is refused in one line", () => {
  assert.equal(parseDuration("100000d", "--warn-within"), 100_000 * 86_400_000);
  for (const text of ["100001d", `${"9".repeat(400)}d`, "9".repeat(400)]) {
    assert.throws(
      () => parseDuration(text, "--warn-within"),
      (error: unknown) =>
        error instanceof CertroleError && error.message.startsWith(`--warn-within "${text.slice(0, 100)}`) &&
        error.message.endsWith(`" is too long: use at most 100000d`),
      text,
    );
  }
});

Deno.test("pki init-ca --days 99999999 and --key-type constructor: one line, exit 2, nothing written", async () => {
  for (const args of [["--days", "99999999"], ["--key-type", "constructor"]]) {
    const dir = await tempDir();
    const result = await certrole(["pki", "init-ca", "--cn", "x", "--no-passphrase", ...args], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`^certrole: ${args[0]} [^\\n]*\\n$`));
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }
});
