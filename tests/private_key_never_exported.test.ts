/**
 * A loaded private key stays inside WebCrypto: every kind certrole reads (RSA, EC P-256/P-384,
 * ML-DSA seed and both forms; plain and encrypted; an EC key written without its public point)
 * loads as a non-extractable CryptoKey, no private key is ever imported extractable or exported
 * (as a JWK or otherwise) on the way, and the public half read from it still matches the
 * certificate. In-process, with WebCrypto watched; keys made by openssl and Python.
 */
import assert from "node:assert/strict";
import { parsePrivateKey } from "../cli/identity/private_key.ts";
import { certificateFromBytes, keyMatchesCertificate } from "../cli/identity/identity.ts";
import { openssl, tempDir } from "./support/run.ts";

const SEEDS = new URL("./fixtures/fuzz-seeds/", import.meta.url).pathname;
const PASSPHRASE = JSON.parse(await Deno.readTextFile(`${SEEDS}manifest.json`)).passphrase as string;

/** Private-key material that left WebCrypto, or entered it extractable, while `body` ran. */
async function watchingWebCrypto(body: () => Promise<void>): Promise<string[]> {
  const subtle = crypto.subtle;
  const { importKey, exportKey } = subtle;
  const seen: string[] = [];
  const privateFormats = new Set(["pkcs8", "jwk"]);
  const spy = subtle as unknown as Record<string, (...args: unknown[]) => unknown>;
  spy.importKey = (...args: unknown[]) => {
    const [format, , , extractable, usages] = args as [string, unknown, unknown, boolean, string[]];
    if (extractable && privateFormats.has(format) && usages.includes("sign")) seen.push(`extractable ${format} import`);
    return Reflect.apply(importKey, subtle, args);
  };
  spy.exportKey = (...args: unknown[]) => {
    const [format, key] = args as [string, CryptoKey];
    if (key.type === "private") seen.push(`${format} export of a private key`);
    return Reflect.apply(exportKey, subtle, args);
  };
  try {
    await body();
  } finally {
    spy.importKey = importKey as (...args: unknown[]) => unknown;
    spy.exportKey = exportKey as (...args: unknown[]) => unknown;
  }
  return seen;
}

async function check(keyFile: string | Uint8Array, certificateFile: string) {
  const bytes = typeof keyFile === "string" ? await Deno.readFile(`${SEEDS}${keyFile}`) : keyFile;
  let key!: Awaited<ReturnType<typeof parsePrivateKey>>;
  const leaks = await watchingWebCrypto(async () => {
    key = await parsePrivateKey(bytes, { passphrase: PASSPHRASE });
  });
  const name = typeof keyFile === "string" ? keyFile : certificateFile;
  assert.deepEqual(leaks, [], `${name}: the private key stays in WebCrypto`);
  const signingKey = key.signingKey as CryptoKey;
  assert.ok(signingKey instanceof CryptoKey, name);
  assert.equal(signingKey.type, "private");
  assert.equal(signingKey.extractable, false, `${name} loads non-extractable`);
  await assert.rejects(crypto.subtle.exportKey("pkcs8", signingKey), `${name}: cannot be exported`);
  const certificate = certificateFromBytes(await Deno.readFile(`${SEEDS}${certificateFile}`), certificateFile);
  assert.ok(await keyMatchesCertificate(key, certificate), `${name}: its public half matches the certificate`);
}

Deno.test("RSA, EC and ML-DSA keys load non-extractable and are never exported", async () => {
  for (
    const [key, certificate] of [
      ["rsa-pkcs8.pem", "rsa-cert.pem"],
      ["rsa-legacy-aes256.pem", "rsa-cert.pem"],
      ["ec256-traditional.pem", "ec256-cert.pem"],
      ["ec256-pbes2-aes256.pem", "ec256-cert.pem"],
      ["ec384-pkcs8.der", "ec384-cert.pem"],
      ["mldsa44-seed.der", "mldsa44-cert.pem"],
      ["mldsa87-both.der", "mldsa87-cert.pem"],
      ["mldsa65-both-sha256-aes-256-cbc.der", "mldsa65-cert.pem"],
    ]
  ) await check(key, certificate);
});

Deno.test("an EC key written without its public point still loads, matches and stays inside", async () => {
  const dir = await tempDir();
  const sec1 = `${dir}/no-public.pem`;
  await openssl(["ec", "-in", `${SEEDS}ec256-traditional.pem`, "-no_public", "-out", sec1]);
  await openssl(["pkcs8", "-topk8", "-nocrypt", "-in", sec1, "-out", `${dir}/no-public-pkcs8.pem`]);
  assert.doesNotMatch(await openssl(["asn1parse", "-in", sec1]), /cont \[ 1 \]/, "the key file has no public point");
  await check(await Deno.readFile(sec1), "ec256-cert.pem");
  await check(await Deno.readFile(`${dir}/no-public-pkcs8.pem`), "ec256-cert.pem");
});
