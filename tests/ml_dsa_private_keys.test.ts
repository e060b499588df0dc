/**
 * ML-DSA-44/65/87 private keys load in all three PKCS#8 forms RFC 9881 allows (the seed, the
 * expanded key, both), plain and encrypted with every PBES2 variant certrole reads, and match
 * their certificates. The keys are split and encrypted by Python (tests/support/ml_dsa_pkcs8.py,
 * hashlib and `cryptography`, no certrole code) from the official helper's fixtures, whose
 * public keys `cryptography` checks against the certificates. Broken keys give one-line errors:
 * a "both" key whose seed and expanded key disagree (which the helper does not check), an
 * expanded key whose tr is not its public key's hash, wrong sizes, parameters where RFC 9881
 * forbids them.
 */
import assert from "node:assert/strict";
import { CertroleError } from "../cli/errors.ts";
import { certificateFromBytes, keyMatchesCertificate, privateKeyFromBytes } from "../cli/identity/identity.ts";
import { OFFLINE_ARNS } from "./support/exec.ts";
import { certrole, ROOT, run, tempDir } from "./support/run.ts";

const FIXTURES = `${ROOT}/tests/fixtures/official-helper-v1.8.0/tst/mldsa-fixtures`;
const LEVELS = ["44", "65", "87"] as const;
const PASSPHRASE = "password";

interface Made {
  readonly level: string;
  readonly form: "seed" | "expanded" | "both";
  readonly file: string;
  readonly encryption: string | null;
}

const dir = await tempDir("certrole ml-dsa keys ");
const made = await run("python3", [
  `${ROOT}/tests/support/ml_dsa_pkcs8.py`,
  dir,
  ...LEVELS.map((level) => `${FIXTURES}/mldsa${level}-key.pem`),
], { stdin: PASSPHRASE });
assert.equal(made.code, 0, made.stderr);
const manifest: Made[] = JSON.parse(made.stdout);
const certificates = Object.fromEntries(
  LEVELS.map((level) => [level, certificateFromBytes(Deno.readFileSync(`${FIXTURES}/mldsa${level}-cert.pem`), level)]),
);

function load(bytes: Uint8Array, passphrase?: string) {
  return privateKeyFromBytes(
    bytes,
    "key.der",
    passphrase === undefined ? undefined : { value: passphrase, source: "test" },
  );
}

Deno.test("seed, expanded and both forms of ML-DSA-44/65/87, plain and under every PBES2 variant, match their certificates", async () => {
  const variants = new Set(manifest.map((entry) => entry.encryption));
  assert.equal(variants.size, 1 + 7 * 4, "no encryption, and PBKDF2 (6 PRFs) or scrypt × 4 ciphers");
  for (const entry of manifest) {
    const what = `ML-DSA-${entry.level} ${entry.form} ${entry.encryption ?? "plain"}`;
    const key = await load(Deno.readFileSync(entry.file), entry.encryption ? PASSPHRASE : undefined);
    assert.equal(key.type, "ML-DSA", what);
    assert.equal(key.parameterSet, `ML-DSA-${entry.level}`, what);
    assert.equal(key.algorithm, "AWS4-X509-MLDSA", what);
    assert.equal(key.mlDsaForm, entry.form, what);
    assert.equal(key.encrypted, entry.encryption !== null, what);
    assert.ok(await keyMatchesCertificate(key, certificates[entry.level]), `${what} does not match its certificate`);
    // A key with a seed lives in WebCrypto, unextractable; only an expanded-only key is bytes.
    if (entry.form === "expanded") assert.ok(!(key.signingKey instanceof CryptoKey), what);
    else assert.equal((key.signingKey as CryptoKey).extractable, false, what);
  }
});

Deno.test("an ML-DSA key does not match another parameter set's or another key's certificate", async () => {
  const key = await load(Deno.readFileSync(`${dir}/mldsa65-seed.der`));
  assert.equal(await keyMatchesCertificate(key, certificates["44"]), false);
  assert.equal(await keyMatchesCertificate(key, certificates["87"]), false);
  const other = await load(Deno.readFileSync(`${dir}/mldsa44-expanded.der`));
  assert.equal(await keyMatchesCertificate(other, certificates["65"]), false);
});

/** A copy of the PKCS#8 DER with `count` bytes changed at `offset` from the end (or start, when positive). */
function flipped(der: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(der);
  copy[offset < 0 ? copy.length + offset : offset] ^= 0x01;
  return copy;
}

async function rejects(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  await assert.rejects(() => load(bytes), (error: unknown) => {
    assert.ok(error instanceof CertroleError, String(error));
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
}

Deno.test("a both-form key whose seed and expanded key disagree is refused, for each parameter set", async () => {
  for (const level of LEVELS) {
    const both = Deno.readFileSync(`${dir}/mldsa${level}-both.der`);
    // the last byte is in t0, the first expanded bytes are ρ: both must agree with the seed
    for (const offset of [-1, -2000]) {
      await rejects(flipped(both, offset), /seed and expanded key disagree/);
    }
  }
});

Deno.test("an expanded key whose tr is not the hash of its public key is refused", async () => {
  const expanded = Deno.readFileSync(`${dir}/mldsa65-expanded.der`);
  const header = expanded.length - 4032; // the expanded key ends the DER: ρ(32) K(32) tr(64) s1 s2 t0
  await rejects(flipped(expanded, header + 64 + 10), /expanded key is inconsistent/);
  await rejects(flipped(expanded, header + 3), /expanded key is inconsistent/);
  // K only seeds the signing nonce: a changed K is still a working key for the same public key.
  const key = await load(flipped(expanded, header + 40));
  assert.ok(await keyMatchesCertificate(key, certificates["65"]));
});

Deno.test("wrong sizes and AlgorithmIdentifier parameters are malformed keys", async () => {
  const oid65 = "0609608648016503040312";
  const pkcs8 = (algorithm: string, inner: string) => {
    const tlv = (tag: string, hex: string) => {
      const n = hex.length / 2;
      const length = n < 0x80
        ? n.toString(16).padStart(2, "0")
        : n < 0x100
        ? `81${n.toString(16).padStart(2, "0")}`
        : `82${n.toString(16).padStart(4, "0")}`;
      return tag + length + hex;
    };
    return Uint8Array.fromHex(tlv("30", "020100" + tlv("30", algorithm) + tlv("04", inner)));
  };
  const seed = "80" + "1f" + "ab".repeat(31);
  await rejects(pkcs8(oid65, seed), /ML-DSA-65 seed is 31 bytes, not 32/);
  await rejects(pkcs8(oid65, "04820100" + "00".repeat(256)), /ML-DSA-65 expanded key is 256 bytes, not 4032/);
  await rejects(pkcs8(oid65 + "0500", "8020" + "ab".repeat(32)), /ML-DSA-65 privateKeyAlgorithm has parameters/);
  await rejects(pkcs8(oid65, "0201" + "05"), /neither a seed, an expanded key nor both/);
});

Deno.test("credential-process names a broken ML-DSA key in one line, before any network call", async () => {
  const bad = `${dir}/disagree.der`;
  await Deno.writeFile(bad, flipped(Deno.readFileSync(`${dir}/mldsa44-both.der`), -1));
  const result = await certrole(["credential-process"], {
    env: {
      ...OFFLINE_ARNS,
      ROLESANYWHERE_ENDPOINT: "http://127.0.0.1:9",
      ROLESANYWHERE_NO_CACHE: "1",
      ROLESANYWHERE_CERT_LOCATION: `${FIXTURES}/mldsa44-cert.pem`,
      ROLESANYWHERE_KEY_LOCATION: bad,
    },
  });
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    /^certrole: private key file ".*disagree\.der" is corrupt \(its ML-DSA-44 seed and expanded key disagree .*\): restore .*\n$/,
  );
});
