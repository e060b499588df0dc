/**
 * serve's TLS pair, when TLS refuses it, is explained in one line naming the file and what is
 * wrong, instead of Deno's "No keys found in key data" / "keys may not be consistent": an
 * encrypted key (PKCS#8 or legacy PEM), a key of another certificate (same or other type), a
 * corrupt key, a certificate that does not parse. A pair TLS takes passes; `serve` refuses a bad
 * pair at start with exit 1 before any CreateSession, and a rotated-in bad pair is logged that way
 * (serve_tls_rotation.test.ts).
 */
import assert from "node:assert/strict";
import { CertroleError } from "../cli/errors.ts";
import { checkTlsPair, readTlsPair } from "../cli/serve/tls_pair.ts";
import { singleCallEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, openssl, tempDir } from "./support/run.ts";

const dir = await tempDir();
const selfSigned = async (name: string, keyArgs: string[]) => {
  await openssl([
    "req",
    "-x509",
    ...keyArgs,
    "-noenc",
    "-keyout",
    `${dir}/${name}-key.pem`,
    "-out",
    `${dir}/${name}-cert.pem`,
    "-subj",
    "/CN=localhost",
    "-days",
    "2",
  ]);
  return { cert: `${dir}/${name}-cert.pem`, key: `${dir}/${name}-key.pem` };
};
const rsa = await selfSigned("rsa", ["-newkey", "rsa:2048"]);
const otherRsa = await selfSigned("other", ["-newkey", "rsa:2048"]);
const ec = await selfSigned("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
await openssl(["pkey", "-in", rsa.key, "-aes256", "-passout", "pass:secret", "-out", `${dir}/pkcs8-encrypted.pem`]);
await openssl([
  "rsa",
  "-in",
  rsa.key,
  "-aes256",
  "-passout",
  "pass:secret",
  "-traditional",
  "-out",
  `${dir}/legacy.pem`,
]);
const keyText = await Deno.readTextFile(rsa.key);
await Deno.writeTextFile(
  `${dir}/corrupt.pem`,
  keyText.replace(/\n([A-Za-z0-9+/]{20})/, "\n" + "A".repeat(20)).slice(0, 400) + "\n-----END PRIVATE KEY-----\n",
);
await Deno.writeTextFile(`${dir}/bad-cert.pem`, "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n");

async function problemOf(certFile: string, keyFile: string): Promise<string | undefined> {
  const files = { certFile, keyFile };
  try {
    await checkTlsPair(await readTlsPair(certFile, keyFile), files);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof CertroleError, String(error));
    return error.message;
  }
}

Deno.test("each TLS pair problem is named with its file", async () => {
  assert.equal(await problemOf(rsa.cert, rsa.key), undefined);
  assert.equal(await problemOf(ec.cert, ec.key), undefined);
  for (const encrypted of [`${dir}/pkcs8-encrypted.pem`, `${dir}/legacy.pem`]) {
    assert.equal(
      await problemOf(rsa.cert, encrypted),
      `--tls-key "${encrypted}" is encrypted: serve reads its TLS key unencrypted ` +
        `(openssl pkey -in ${encrypted} -out PLAIN.pem, readable by serve's user only)`,
    );
  }
  assert.equal(
    await problemOf(rsa.cert, otherRsa.key),
    `--tls-key "${otherRsa.key}" (RSA-2048) is not the key of the certificate in --tls-cert "${rsa.cert}" ` +
      `("CN=localhost", RSA key): give the key it was issued for`,
  );
  assert.equal(
    await problemOf(rsa.cert, ec.key),
    `--tls-key "${ec.key}" (EC P-256) is not the key of the certificate in --tls-cert "${rsa.cert}" ` +
      `("CN=localhost", RSA key): give the key it was issued for`,
  );
  assert.match(
    (await problemOf(rsa.cert, `${dir}/corrupt.pem`))!,
    new RegExp(`^--tls-key "${dir}/corrupt\\.pem" is not a usable private key \\(.+\\): give the unencrypted PEM key$`),
  );
  assert.match(
    (await problemOf(`${dir}/bad-cert.pem`, rsa.key))!,
    new RegExp(`^--tls-cert "${dir}/bad-cert\\.pem" holds no valid certificate \\(.+\\): give the PEM chain`),
  );
});

Deno.test("serve with an encrypted TLS key: one line naming it, exit 1, before any CreateSession", async () => {
  const ca = await makeCa(`${dir}/ca`);
  const leaf = await issueLeaf(ca, "leaf");
  const result = await certrole(
    ["serve", "--listen", "127.0.0.1:0", "--tls-cert", rsa.cert, "--tls-key", `${dir}/pkcs8-encrypted.pem`],
    {
      env: singleCallEnv(leaf, dir, "http://127.0.0.1:9"),
      killAfterMs: 20_000,
    },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.equal(
    result.stderr,
    `certrole: --tls-key "${dir}/pkcs8-encrypted.pem" is encrypted: serve reads its TLS key unencrypted ` +
      `(openssl pkey -in ${dir}/pkcs8-encrypted.pem -out PLAIN.pem, readable by serve's user only)\n`,
  );
});
