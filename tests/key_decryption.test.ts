/**
 * Key decryption (cli/identity/key_encryption.ts), in-process, against keys openssl and Python
 * encrypted (tests/fixtures/fuzz-seeds, never made by certrole): every PKCS#8 PBES2 variant
 * (PBKDF2 with SHA-1 without a PRF, SHA-256, SHA-384, SHA-512; scrypt; AES-128/192/256-CBC and
 * DES-EDE3-CBC), PBES1 SHA1-3DES, and legacy `Proc-Type: 4,ENCRYPTED` PEM (AES-128, AES-256,
 * DES-EDE3), for RSA, EC and ML-DSA keys, decrypts to exactly the bytes of the same key stored
 * plain. A wrong passphrase is refused as one, never taken for a key; encryptPkcs8's output decrypts to its input.
 */
import assert from "node:assert/strict";
import { DecryptError } from "../cli/identity/ciphers.ts";
import { decryptLegacyPem, decryptPkcs8, encryptPkcs8, isEncryptedPkcs8 } from "../cli/identity/key_encryption.ts";
import { parsePem } from "../cli/identity/pem.ts";
import { KeyError, parsePrivateKey } from "../cli/identity/private_key.ts";
import { ROOT } from "./support/run.ts";

const SEEDS = `${ROOT}/tests/fixtures/fuzz-seeds`;
const manifest: {
  passphrase: string;
  seeds: { file: string; kind: string; encoding: string; encrypted?: boolean }[];
} = JSON.parse(await Deno.readTextFile(`${SEEDS}/manifest.json`));

/** The file's one PEM block (label, headers, bytes), or its DER as a PKCS#8 block. */
async function block(file: string) {
  const bytes = await Deno.readFile(`${SEEDS}/${file}`);
  return file.endsWith(".der")
    ? { label: "ENCRYPTED PRIVATE KEY", headers: {}, bytes }
    : parsePem(new TextDecoder().decode(bytes))[0];
}

/**
 * The same key stored plain: PKCS#8 for PKCS#8 forms, PKCS#1 or SEC1 for legacy PEM. The PEM files,
 * whose labels say which is which (openssl 3.0 wrote the `-pkcs8.der` and `-traditional.der` seeds
 * the other way round from their names).
 */
async function plainPartner(file: string, legacy: boolean): Promise<Uint8Array | undefined> {
  const ml = file.match(/^(mldsa\d+-(?:seed|expanded|both))-/);
  if (ml) return await Deno.readFile(`${SEEDS}/${ml[1]}.der`).catch(() => undefined);
  const key = file.split("-")[0];
  const [plain] = parsePem(await Deno.readTextFile(`${SEEDS}/${key}-${legacy ? "traditional" : "pkcs8"}.pem`));
  assert.match(plain.label, legacy ? /^(RSA|EC) PRIVATE KEY$/ : /^PRIVATE KEY$/);
  return plain.bytes;
}

const encrypted = manifest.seeds.filter((seed) => seed.kind === "key" && seed.encrypted);

Deno.test("every encrypted fixture key decrypts to the bytes of the same key stored plain", async () => {
  assert.ok(encrypted.length >= 25, `${encrypted.length} encrypted keys in the manifest`);
  const forms = new Set<string>();
  for (const seed of encrypted) {
    const { label, headers, bytes } = await block(seed.file);
    const legacy = (headers as Record<string, string>)["Proc-Type"]?.includes("ENCRYPTED") ?? false;
    const plain = legacy
      ? await decryptLegacyPem((headers as Record<string, string>)["DEK-Info"], bytes, manifest.passphrase)
      : (assert.equal(label, "ENCRYPTED PRIVATE KEY", seed.file),
        assert.ok(isEncryptedPkcs8(bytes), seed.file),
        await decryptPkcs8(bytes, manifest.passphrase));
    const expected = await plainPartner(seed.file, legacy);
    if (expected) {
      assert.equal(plain.toHex(), expected.toHex(), `${seed.file} (${seed.encoding})`);
    } else {
      // No plain file of this ML-DSA form: its seed (the last 32 bytes of the seed form) is inside.
      const seedForm = await Deno.readFile(`${SEEDS}/${seed.file.split("-")[0]}-seed.der`);
      assert.ok(plain.toHex().includes(seedForm.subarray(-32).toHex()), `${seed.file} holds the key's seed`);
    }
    assert.equal(isEncryptedPkcs8(plain), false);
    forms.add(seed.encoding.replace(/^\S+ /, ""));
  }
  // The forms AWS's helper, openssl 3 and ACM write are all among them.
  for (const form of [/PBKDF2-SHA1 \(PRF absent\)/, /scrypt/, /PBES1/, /legacy PEM des3/, /DES-EDE3-CBC/, /AES-192/]) {
    assert.ok([...forms].some((f) => form.test(f)), `a ${form.source} key is covered`);
  }
});

Deno.test("a wrong passphrase never yields a key: each file is refused as wrong-passphrase", async () => {
  for (const seed of encrypted) {
    await assert.rejects(
      parsePrivateKey(await Deno.readFile(`${SEEDS}/${seed.file}`), { passphrase: "not the passphrase" }),
      (error) => error instanceof KeyError && error.problem === "wrong-passphrase",
      seed.file,
    );
  }
});

Deno.test("encryptPkcs8 (AES-256-CBC and DES-EDE3-CBC) round-trips; another salt and IV give other bytes", async () => {
  const plain = await Deno.readFile(`${SEEDS}/ec256-pkcs8.der`);
  for (const cipher of ["aes-256-cbc", "des-ede3-cbc"] as const) {
    const first = await encryptPkcs8(plain, "pässword", { cipher, iterations: 1000 });
    const second = await encryptPkcs8(plain, "pässword", { cipher, iterations: 1000 });
    assert.ok(isEncryptedPkcs8(first));
    assert.notEqual(first.toHex(), second.toHex(), "fresh salt and IV each time");
    assert.equal((await decryptPkcs8(first, "pässword")).toHex(), plain.toHex(), cipher);
    await assert.rejects(decryptPkcs8(first, "password"), DecryptError);
  }
});
