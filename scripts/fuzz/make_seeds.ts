/**
 * Writes the fuzz seed corpus, tests/fixtures/fuzz-seeds/: valid keys and certificates in every
 * encoding certrole reads, made by openssl (RSA, EC) and by tests/support/ml_dsa_pkcs8.py
 * (Python's hashlib and `cryptography`) from the official helper's ML-DSA fixtures, never by
 * certrole itself. The corpus is committed so that `make fuzz` and its test run are
 * deterministic; run this again only to change it (the bytes differ each time: fresh keys).
 *
 *   deno run -A scripts/fuzz/make_seeds.ts
 */
import $ from "dax-sh";
import type { Seed, SeedManifest } from "./seeds.ts";

const root = new URL("../../", import.meta.url).pathname;
const out = `${root}tests/fixtures/fuzz-seeds`;
const helperFixtures = `${root}tests/fixtures/official-helper-v1.8.0/tst/mldsa-fixtures`;
const SEED_PASSPHRASE = "fuzz-passphrase";
const pass = `pass:${SEED_PASSPHRASE}`;

await Deno.remove(out, { recursive: true }).catch(() => {});
await Deno.mkdir(out, { recursive: true });
const work = await Deno.makeTempDir({ prefix: "certrole-fuzz-seeds-" });
const seeds: Seed[] = [];
const add = (seed: Seed) => seeds.push(seed);

// A CA and three leaves, valid for a century: the fuzz run's clock sits inside every window.
await $`openssl req -x509 -newkey rsa:2048 -noenc -keyout ${work}/ca-key.pem -out ${out}/ca-cert.pem -days 36500 -subj /CN=fuzzCA -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`
  .quiet();
await Deno.writeTextFile(
  `${work}/v3.ext`,
  "authorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nsubjectAltName=DNS:leaf.example,URI:spiffe://example/leaf\n",
);
const LEAVES = [
  { name: "rsa", newkey: ["-newkey", "rsa:2048"], traditional: "rsa" },
  { name: "ec256", newkey: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], traditional: "ec" },
  { name: "ec384", newkey: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], traditional: "ec" },
] as const;

for (const leaf of LEAVES) {
  const key = `${work}/${leaf.name}-key.pem`;
  await $`openssl req -new ${leaf.newkey} -noenc -keyout ${key} -out ${work}/${leaf.name}.csr -subj /O=Example/CN=${leaf.name}-leaf`
    .quiet();
  await $`openssl x509 -req -in ${work}/${leaf.name}.csr -CA ${out}/ca-cert.pem -CAkey ${work}/ca-key.pem -set_serial 0x0123456789abcdef01 -days 36500 -sha256 -extfile ${work}/v3.ext -out ${out}/${leaf.name}-cert.pem`
    .quiet();
  await $`openssl x509 -in ${out}/${leaf.name}-cert.pem -outform DER -out ${out}/${leaf.name}-cert.der`.quiet();
  const certificate = `${leaf.name}-cert.pem`;
  add({ file: certificate, kind: "certificate", encoding: "PEM", partner: `${leaf.name}-pkcs8.pem` });
  add({ file: `${leaf.name}-cert.der`, kind: "certificate", encoding: "DER", partner: `${leaf.name}-pkcs8.pem` });
  const keyFile = (file: string, encoding: string, encrypted: boolean) =>
    add({ file, kind: "key", encoding, partner: certificate, encrypted });
  const traditionalName = leaf.traditional === "rsa" ? "PKCS#1" : "SEC1";
  await $`openssl pkey -in ${key} -out ${out}/${leaf.name}-pkcs8.pem`.quiet();
  keyFile(`${leaf.name}-pkcs8.pem`, "PKCS#8 PEM", false);
  await $`openssl pkey -in ${key} -outform DER -out ${out}/${leaf.name}-pkcs8.der`.quiet();
  keyFile(`${leaf.name}-pkcs8.der`, "PKCS#8 DER", false);
  await $`openssl pkey -in ${key} -traditional -out ${out}/${leaf.name}-traditional.pem`.quiet();
  keyFile(`${leaf.name}-traditional.pem`, `${traditionalName} PEM`, false);
  await $`openssl ${leaf.traditional} -in ${key} -outform DER -out ${out}/${leaf.name}-traditional.der`.quiet();
  keyFile(`${leaf.name}-traditional.der`, `${traditionalName} DER`, false);
  // PKCS#8 encryption: OpenSSL's default (PBKDF2-SHA256, 2048 iterations), the walkthrough's
  // DES-EDE3, ACM's PRF-absent SHA-1, scrypt, PBES1, DER. Each fuzz input runs the KDF, so the
  // scrypt seed is small (N=256 r=1: 32 KiB), and a factor copied onto another (N onto r or p)
  // still costs little.
  const pkcs8 = async (name: string, encoding: string, args: string[]) => {
    await $`openssl pkcs8 -topk8 -in ${key} ${args} -passout ${pass} -out ${out}/${leaf.name}-${name}`.quiet();
    keyFile(`${leaf.name}-${name}`, encoding, true);
  };
  await pkcs8("pbes2-aes256.pem", "PKCS#8 PBES2 PBKDF2-SHA256 AES-256-CBC PEM", ["-v2", "aes-256-cbc"]);
  await pkcs8("pbes2-des3.pem", "PKCS#8 PBES2 PBKDF2-SHA256 DES-EDE3-CBC PEM", ["-v2", "des-ede3-cbc"]);
  await pkcs8("pbes2-sha1-aes128.pem", "PKCS#8 PBES2 PBKDF2-SHA1 (PRF absent) AES-128-CBC PEM", [
    "-v2",
    "aes-128-cbc",
    "-v2prf",
    "hmacWithSHA1",
  ]);
  await pkcs8("pbes2-sha512-aes192.der", "PKCS#8 PBES2 PBKDF2-SHA512 AES-192-CBC DER", [
    "-v2",
    "aes-192-cbc",
    "-v2prf",
    "hmacWithSHA512",
    "-outform",
    "DER",
  ]);
  await pkcs8("scrypt.pem", "PKCS#8 PBES2 scrypt AES-256-CBC PEM", [
    "-scrypt",
    "-scrypt_N",
    "256",
    "-scrypt_r",
    "1",
    "-scrypt_p",
    "1",
    "-v2",
    "aes-256-cbc",
  ]);
  await pkcs8("pbes1.pem", "PKCS#8 PBES1 SHA1-3DES PEM", ["-v1", "PBE-SHA1-3DES"]);
  for (const cipher of ["aes128", "aes256", "des3"]) {
    const file = `${leaf.name}-legacy-${cipher}.pem`;
    await $`openssl ${leaf.traditional} -in ${key} -${cipher} ${
      leaf.traditional === "rsa" ? ["-traditional"] : []
    } -passout ${pass} -out ${out}/${file}`.quiet();
    keyFile(file, `${traditionalName} legacy PEM ${cipher}`, true);
  }
}
// One PEM holding certificate and key (certrole reads the key from --certificate then), and a bundle.
await Deno.writeTextFile(
  `${out}/ec256-combined.pem`,
  (await Deno.readTextFile(`${out}/ec256-cert.pem`)) + (await Deno.readTextFile(`${out}/ec256-pkcs8.pem`)),
);
add({ file: "ec256-combined.pem", kind: "combined", encoding: "PEM certificate and PKCS#8 key" });
await Deno.writeTextFile(
  `${out}/bundle.pem`,
  (await Deno.readTextFile(`${out}/ca-cert.pem`)) + (await Deno.readTextFile(`${out}/rsa-cert.pem`)),
);
add({ file: "bundle.pem", kind: "bundle", encoding: "PEM bundle of two certificates" });

// ML-DSA: the helper's self-signed certificates, their keys in the three RFC 9881 forms.
const made = await $`python3 ${root}tests/support/ml_dsa_pkcs8.py ${work} ${
  ["44", "65", "87"].map((level) => `${helperFixtures}/mldsa${level}-key.pem`)
}`.stdinText(SEED_PASSPHRASE).json<{ level: string; form: string; file: string; encryption: string | null }[]>();
const ML_DSA_PICKS: Record<string, (string | null)[]> = {
  "44 seed": [null, "sha256 des-ede3-cbc"],
  "44 expanded": [null, "sha1-absent aes-128-cbc"],
  "44 both": [null, "sha384 aes-192-cbc"],
  "65 seed": [null],
  "65 both": ["sha256 aes-256-cbc"],
  "87 seed": [null],
  "87 expanded": [null],
  "87 both": [null, "sha512 aes-256-cbc"],
};
for (const level of ["44", "65", "87"]) {
  await Deno.copyFile(`${helperFixtures}/mldsa${level}-cert.pem`, `${out}/mldsa${level}-cert.pem`);
  add({
    file: `mldsa${level}-cert.pem`,
    kind: "certificate",
    encoding: "PEM",
    partner: `mldsa${level}-seed.der`,
  });
}
for (const entry of made) {
  if (!ML_DSA_PICKS[`${entry.level} ${entry.form}`]?.includes(entry.encryption)) continue;
  const name = `mldsa${entry.level}-${entry.form}${entry.encryption ? `-${entry.encryption.replace(" ", "-")}` : ""}`;
  await Deno.copyFile(entry.file, `${out}/${name}.der`);
  add({
    file: `${name}.der`,
    kind: "key",
    encoding: `ML-DSA-${entry.level} ${entry.form} PKCS#8 ${
      entry.encryption ? `PBES2 ${entry.encryption}` : "plain"
    } DER`,
    partner: `mldsa${entry.level}-cert.pem`,
    encrypted: entry.encryption !== null,
  });
}
// The seed form of 44 as PEM too, since the others of ML-DSA are DER.
const seed44 = await Deno.readFile(`${out}/mldsa44-seed.der`);
const base64 = seed44.toBase64().match(/.{1,64}/g)!.join("\n");
await Deno.writeTextFile(
  `${out}/mldsa44-seed.pem`,
  `-----BEGIN PRIVATE KEY-----\n${base64}\n-----END PRIVATE KEY-----\n`,
);
add({
  file: "mldsa44-seed.pem",
  kind: "key",
  encoding: "ML-DSA-44 seed PKCS#8 plain PEM",
  partner: "mldsa44-cert.pem",
  encrypted: false,
});

const manifest: SeedManifest = {
  passphrase: SEED_PASSPHRASE,
  // Inside every seed certificate's validity (the helper's ML-DSA ones start 2026-01-22).
  now: new Date(Math.max(Date.now(), Date.parse("2026-01-23T00:00:00Z"))).toISOString().replace(/\.\d+Z$/, "Z"),
  seeds,
};
await Deno.writeTextFile(`${out}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
await Deno.remove(work, { recursive: true });
console.log(`wrote ${seeds.length} seeds to ${out}`);
