/**
 * `certrole pki init-ca` and `pki issue` with `--key-type ml-dsa-44|ml-dsa-65|ml-dsa-87`, alone and
 * mixed with RSA and EC both ways (an ML-DSA CA certifying RSA/EC keys, an RSA/EC CA certifying
 * ML-DSA keys), checked by peers: Python's `cryptography` verifies every certificate's signature
 * with its issuer's key and opens the encrypted ML-DSA key files (PKCS#8 seed form, PBES2) to the
 * certificate's public key (openssl 3.0 cannot: it does not decode ML-DSA keys). `pki check`
 * passes them all, `pki issue --csr` certifies an ML-DSA CSR (and refuses an Ed25519 one by
 * the same key-type rules), and a CA key without its seed is refused in one line.
 */
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { integer, octetString, oid, sequence } from "../cli/identity/der.ts";
import { OID } from "../cli/identity/oids.ts";
import { certrole, openssl, run, tempDir } from "./support/run.ts";

x509.cryptoProvider.set(crypto);

const ENV = { CERTROLE_CA_PASSPHRASE: "ca passphrase", ROLESANYWHERE_KEY_PASSPHRASE: "leaf passphrase" };

/** Python: the issuer's key verifies the certificate, and the key file opens to the certificate's key. */
const CHECK = `
import json, sys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
ca_path, cert_path, key_path, passphrase = sys.argv[1:5]
issuer = x509.load_pem_x509_certificate(open(ca_path, "rb").read()).public_key()
certificate = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
if isinstance(issuer, rsa.RSAPublicKey):
    issuer.verify(certificate.signature, certificate.tbs_certificate_bytes, padding.PKCS1v15(), certificate.signature_hash_algorithm)
elif isinstance(issuer, ec.EllipticCurvePublicKey):
    issuer.verify(certificate.signature, certificate.tbs_certificate_bytes, ec.ECDSA(certificate.signature_hash_algorithm))
else:
    issuer.verify(certificate.signature, certificate.tbs_certificate_bytes)
key = serialization.load_pem_private_key(open(key_path, "rb").read(), passphrase.encode())
raw = lambda k: k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
print(json.dumps({"issuer": type(issuer).__name__, "subject": type(certificate.public_key()).__name__,
    "signature": certificate.signature_algorithm_oid.dotted_string, "keyMatches": raw(key.public_key()) == raw(certificate.public_key())}))
`;

async function pythonCheck(dir: string, ca: string, cert: string, key: string, passphrase: string) {
  const result = await run("python3", ["-c", CHECK, `${dir}/${ca}`, `${dir}/${cert}`, `${dir}/${key}`, passphrase]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

async function pki(dir: string, args: string[]) {
  const result = await certrole(["pki", ...args], { cwd: dir, env: ENV });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

const SIGNATURE_OIDS: Record<string, string> = {
  "ml-dsa-44": "2.16.840.1.101.3.4.3.17",
  "ml-dsa-65": "2.16.840.1.101.3.4.3.18",
  "ml-dsa-87": "2.16.840.1.101.3.4.3.19",
  "rsa-2048": "1.2.840.113549.1.1.11",
  "ec-p384": "1.2.840.10045.4.3.3",
};
const PYTHON_TYPES: Record<string, RegExp> = {
  "ml-dsa-44": /MLDSA44PublicKey/,
  "ml-dsa-65": /MLDSA65PublicKey/,
  "ml-dsa-87": /MLDSA87PublicKey/,
  "rsa-2048": /RSAPublicKey/,
  "ec-p384": /ECPublicKey|EllipticCurvePublicKey/,
};

for (
  const [caType, leafType] of [
    ["ml-dsa-44", "ml-dsa-44"],
    ["ml-dsa-65", "ml-dsa-87"],
    ["ml-dsa-87", "ml-dsa-65"],
    ["ml-dsa-65", "rsa-2048"],
    ["ml-dsa-44", "ec-p384"],
    ["rsa-2048", "ml-dsa-65"],
    ["ec-p384", "ml-dsa-44"],
  ]
) {
  Deno.test(`${caType} CA issues a ${leafType} certificate that peers verify and pki check passes`, async () => {
    const dir = await tempDir();
    const initCa = await pki(dir, ["init-ca", "--cn", "myPrivateCA", "--key-type", caType]);
    const caLabel = caType.startsWith("ml-dsa")
      ? caType.toUpperCase()
      : caType === "rsa-2048"
      ? "RSA-2048"
      : "EC P-384";
    assert.match(initCa, new RegExp(`^Wrote ca-key\\.pem: ${caLabel} private key, encrypted`, "m"));
    const issue = await pki(dir, ["issue", "--cn", "myContainer", "--key-type", leafType]);
    const leafLabel = leafType.startsWith("ml-dsa")
      ? leafType.toUpperCase()
      : leafType === "rsa-2048"
      ? "RSA-2048"
      : "EC P-384";
    assert.match(issue, new RegExp(`^Wrote key\\.pem: ${leafLabel} private key, encrypted`, "m"));

    const ca = await pythonCheck(dir, "ca-cert.pem", "ca-cert.pem", "ca-key.pem", ENV.CERTROLE_CA_PASSPHRASE);
    assert.match(ca.issuer, PYTHON_TYPES[caType]);
    assert.equal(ca.signature, SIGNATURE_OIDS[caType]);
    assert.equal(ca.keyMatches, true);
    const leaf = await pythonCheck(dir, "ca-cert.pem", "cert.pem", "key.pem", ENV.ROLESANYWHERE_KEY_PASSPHRASE);
    assert.match(leaf.subject, PYTHON_TYPES[leafType]);
    assert.equal(leaf.signature, SIGNATURE_OIDS[caType], "signed with the CA's algorithm");
    assert.equal(leaf.keyMatches, true);

    const check = await certrole(["pki", "check", "--ca", "ca-cert.pem", "--cert", "cert.pem", "--key", "key.pem"], {
      cwd: dir,
      env: ENV,
    });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /All 14 requirements of IAM Roles Anywhere hold\./);
    if (caType.startsWith("ml-dsa")) {
      assert.match(check.stdout, new RegExp(`✓ signed with ${caType.toUpperCase()} \\(pure ML-DSA, FIPS 204\\)`));
    }
    if (leafType.startsWith("ml-dsa")) {
      assert.match(check.stdout, new RegExp(`✓ ${leafType.toUpperCase()} key, matches the certificate`));
    }
  });
}

Deno.test("pki check: an ML-DSA certificate signed by another ML-DSA CA does not chain", async () => {
  const dir = await tempDir();
  await pki(dir, ["init-ca", "--cn", "myPrivateCA", "--key-type", "ml-dsa-65"]);
  await pki(dir, ["issue", "--cn", "myContainer", "--key-type", "ml-dsa-65"]);
  await pki(dir, [
    "init-ca",
    "--cn",
    "myPrivateCA",
    "--key-type",
    "ml-dsa-65",
    "--cert-out",
    "other-ca.pem",
    "--key-out",
    "other-ca-key.pem",
  ]);
  const check = await certrole(["pki", "check", "--ca", "other-ca.pem", "--cert", "cert.pem"], { cwd: dir, env: ENV });
  assert.equal(check.code, 1);
  assert.match(check.stdout, /✗ does not chain to the CA "CN=myPrivateCA": .*this CA's key did not sign it/);
});

Deno.test("pki issue --csr certifies an ML-DSA CSR; a CA key without its seed is refused in one line", async () => {
  const dir = await tempDir();
  await pki(dir, ["init-ca", "--cn", "myPrivateCA", "--key-type", "ml-dsa-44", "--no-passphrase"]);
  const keys = await crypto.subtle.generateKey({ name: "ML-DSA-87" }, true, ["sign", "verify"]) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=fromCsr",
    keys,
    signingAlgorithm: { name: "ML-DSA-87" },
  });
  await Deno.writeTextFile(`${dir}/csr.pem`, csr.toString("pem"));
  await pki(dir, ["issue", "--csr", "csr.pem", "--cert-out", "csr-cert.pem"]);
  const certificate = new x509.X509Certificate(await Deno.readTextFile(`${dir}/csr-cert.pem`));
  assert.equal(certificate.subject, "CN=fromCsr");
  assert.equal(certificate.publicKey.algorithm.name, "ML-DSA-87");
  // A key outside the rules table (openssl's Ed25519 CSR) is refused with what is accepted.
  await openssl([
    "req",
    "-new",
    "-newkey",
    "ed25519",
    "-noenc",
    "-keyout",
    `${dir}/ed-key.pem`,
    "-out",
    `${dir}/ed.csr`,
    "-subj",
    "/CN=ed",
  ]);
  const ed = await certrole(["pki", "issue", "--csr", "ed.csr", "--cert-out", "ed-cert.pem"], { cwd: dir, env: ENV });
  assert.equal(ed.code, 1);
  assert.match(
    ed.stderr,
    /^certrole: CSR "ed\.csr" is for a key Roles Anywhere does not accept \(ed25519 key\): make it for RSA of 2048 bits or more, EC P-256 and P-384, ML-DSA-44, -65 and -87\n$/,
  );

  // The same CA key as the expanded key alone: it signs sessions, not certificates.
  const seed = (await Deno.readTextFile(`${dir}/ca-key.pem`)).split("\n").filter((l) => l && !l.startsWith("-----"))
    .join("");
  const seedBytes = Uint8Array.fromBase64(seed).subarray(-32);
  const { ml_dsa44 } = await import("@noble/post-quantum/ml-dsa.js");
  const expanded = ml_dsa44.keygen(seedBytes).secretKey;
  const pkcs8 = sequence(integer(0n), sequence(oid(OID.mlDsa44)), octetString(octetString(expanded)));
  await Deno.writeTextFile(
    `${dir}/expanded-ca-key.pem`,
    `-----BEGIN PRIVATE KEY-----\n${pkcs8.toBase64().replace(/.{64}/g, "$&\n")}\n-----END PRIVATE KEY-----\n`,
  );
  const refused = await certrole(["pki", "issue", "--cn", "x", "--ca-key", "expanded-ca-key.pem", "--no-passphrase"], {
    cwd: dir,
    env: ENV,
  });
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^certrole: CA private key "expanded-ca-key\.pem" is an ML-DSA-44 key without its seed .*: use the CA key in its seed or seed-and-expanded form\n$/,
  );
  assert.ok(!(await Deno.stat(`${dir}/cert.pem`).catch(() => undefined)), "nothing written");
});
