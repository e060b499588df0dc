/**
 * The encrypted PKCS#8 keys certrole writes open in openssl with the passphrase, as the cipher
 * says: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC (certrole's own keys) or DES-EDE3-CBC (the
 * form `openssl req -newkey … -keyout` writes, which the image build's cache warm-up uses).
 */
import assert from "node:assert/strict";
import { encryptPkcs8 } from "../cli/identity/key_encryption.ts";
import { toPem } from "../cli/identity/pem.ts";
import { openssl, run, tempDir } from "./support/run.ts";

for (const cipher of ["aes-256-cbc", "des-ede3-cbc"] as const) {
  Deno.test(`encryptPkcs8 with ${cipher}: openssl decrypts it to the same key`, async () => {
    const dir = await tempDir();
    const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
    ]);
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey));
    await Deno.writeTextFile(
      `${dir}/key.pem`,
      toPem("ENCRYPTED PRIVATE KEY", await encryptPkcs8(pkcs8, "pw", { cipher })),
    );
    const parsed = await run("openssl", ["asn1parse", "-in", `${dir}/key.pem`]);
    assert.match(parsed.stdout, cipher === "aes-256-cbc" ? /aes-256-cbc/ : /des-ede3-cbc/);
    assert.match(parsed.stdout, /hmacWithSHA256/);
    await openssl([
      "pkey",
      "-in",
      `${dir}/key.pem`,
      "-passin",
      "pass:pw",
      "-pubout",
      "-outform",
      "DER",
      "-out",
      `${dir}/pub.der`,
    ]);
    assert.deepEqual(
      await Deno.readFile(`${dir}/pub.der`),
      new Uint8Array(await crypto.subtle.exportKey("spki", publicKey)),
    );
    const wrong = await run("openssl", ["pkey", "-in", `${dir}/key.pem`, "-passin", "pass:wrong", "-noout"]);
    assert.notEqual(wrong.code, 0);
  });
}
