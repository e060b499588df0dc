/**
 * Every file of the official helper's v1.8.0 test data (tests/fixtures/official-helper-v1.8.0)
 * does what it was made for: its 3 ML-DSA certificates parse (ML-DSA-44/65/87 keys and
 * signatures, serials agreeing with Python's `cryptography`), all 27 ML-DSA keys load, plain or
 * with passphrase "password", and each matches its certificate and signs CreateSession requests
 * `cryptography` verifies; the ACM-exported RSA key loads; the two deliberately broken files
 * fail with one-line errors.
 */
import assert from "node:assert/strict";
import { CertroleError } from "../cli/errors.ts";
import { certificateFromBytes, keyMatchesCertificate, privateKeyFromBytes } from "../cli/identity/identity.ts";
import { createSessionRequest, signRequest } from "../cli/signing/sigv4_x509.ts";
import { OFFLINE_ARNS } from "./support/exec.ts";
import { certrole, ROOT, run, tempDir } from "./support/run.ts";

const TST = `${ROOT}/tests/fixtures/official-helper-v1.8.0/tst`;
const ML_DSA_DIR = `${TST}/mldsa-fixtures`;
const passphrase = { value: "password", source: "test" };

/** Python `cryptography`: each certificate's serial and whether the raw signature verifies `message`. */
const VERIFY = `
import json, sys
from cryptography import x509
jobs = json.load(sys.stdin)
out = []
for job in jobs:
    certificate = x509.load_pem_x509_certificate(open(job["cert"], "rb").read())
    key = certificate.public_key()
    try:
        key.verify(bytes.fromhex(job["signature"]), job["message"].encode())
        ok = True
    except Exception as error:
        ok = repr(error)
    out.append({"serial": str(certificate.serial_number), "verified": ok})
print(json.dumps(out))
`;

Deno.test("the 27 ML-DSA keys load and match their certificates; their signatures verify in Python", async () => {
  const names = [...Deno.readDirSync(ML_DSA_DIR)].map((entry) => entry.name).sort();
  const keys = names.filter((name) => name.includes("-key"));
  assert.equal(keys.length, 27);
  assert.equal(names.length - keys.length, 3);
  const jobs: { cert: string; signature: string; message: string }[] = [];
  const serials: string[] = [];
  for (const name of keys) {
    const level = name.slice("mldsa".length, "mldsa".length + 2);
    const certPath = `${ML_DSA_DIR}/mldsa${level}-cert.pem`;
    const certificate = certificateFromBytes(await Deno.readFile(certPath), certPath);
    assert.equal(certificate.publicKey.type, "ML-DSA");
    assert.equal(certificate.signatureAlgorithm.oid, `2.16.840.1.101.3.4.3.${{ "44": 17, "65": 18, "87": 19 }[level]}`);
    assert.equal(certificate.basicConstraints?.ca, true);
    const encrypted = name.includes("-pkcs8-");
    const key = await privateKeyFromBytes(
      await Deno.readFile(`${ML_DSA_DIR}/${name}`),
      name,
      encrypted ? passphrase : undefined,
    );
    assert.equal(key.description, `ML-DSA-${level}`, name);
    assert.equal(key.encrypted, encrypted, name);
    assert.equal(key.mlDsaForm, "both", name);
    assert.ok(await keyMatchesCertificate(key, certificate), `${name} does not match ${certPath}`);
    const signed = await signRequest(
      createSessionRequest({
        endpoint: "https://rolesanywhere.us-east-1.amazonaws.com",
        region: "us-east-1",
        trustAnchorArn: OFFLINE_ARNS.ROLESANYWHERE_TRUST_ANCHOR_ARN,
        profileArn: OFFLINE_ARNS.ROLESANYWHERE_PROFILE_ARN,
        roleArn: OFFLINE_ARNS.ROLESANYWHERE_ROLE_ARN,
        durationSeconds: 3600,
        certificate,
        intermediates: [],
        algorithm: key.algorithm,
      }, new Date()),
      key.signingKey,
    );
    jobs.push({ cert: certPath, signature: signed.authorization.split("Signature=")[1], message: signed.stringToSign });
    serials.push(certificate.serialDecimal);
  }
  const result = await run("python3", ["-c", VERIFY], { stdin: JSON.stringify(jobs) });
  assert.equal(result.code, 0, result.stderr);
  const verdicts: { serial: string; verified: true | string }[] = JSON.parse(result.stdout);
  verdicts.forEach((verdict, index) => {
    assert.equal(verdict.verified, true, `${keys[index]}: ${verdict.verified}`);
    assert.equal(verdict.serial, serials[index], "serial as cryptography reads it");
  });
});

Deno.test("read-certificate-data reports ML-DSA certificates as the helper does: the parameter set", async () => {
  for (const level of ["44", "65", "87"]) {
    const path = `${ML_DSA_DIR}/mldsa${level}-cert.pem`;
    const result = await certrole(["read-certificate-data", "--certificate", path]);
    assert.equal(result.code, 0, result.stderr);
    const certificate = certificateFromBytes(await Deno.readFile(path), path);
    assert.deepEqual(JSON.parse(result.stdout), {
      keyType: `ML-DSA-${level}`,
      certificateData: certificate.der.toBase64(),
      serialNumber: certificate.serialDecimal,
      supportedAlgorithms: [`ML-DSA-${level}`],
    });
  }
});

Deno.test("the ACM-exported RSA key (PBKDF2 without a PRF, AES-256-CBC) opens with its passphrase", async () => {
  const key = await privateKeyFromBytes(await Deno.readFile(`${TST}/keys/acm-encrypted.pem`), "acm", passphrase);
  assert.equal(key.description, "RSA-2048");
  assert.equal(key.encrypted, true);
  await assert.rejects(
    () =>
      privateKeyFromBytes(Deno.readFileSync(`${TST}/keys/acm-encrypted.pem`), "acm", { value: "nope", source: "test" }),
    (error: unknown) => error instanceof CertroleError && error.code === "WrongPassphrase",
  );
});

Deno.test("the deliberately invalid certificate and key fail with one line each", async () => {
  const dir = await tempDir();
  const env = {
    ...OFFLINE_ARNS,
    ROLESANYWHERE_ENDPOINT: "http://127.0.0.1:9",
    ROLESANYWHERE_NO_CACHE: "1",
    HOME: dir,
  };
  const badCert = await certrole(["credential-process"], {
    env: {
      ...env,
      ROLESANYWHERE_CERT_LOCATION: `${TST}/certs/invalid-rsa-cert.pem`,
      ROLESANYWHERE_KEY_LOCATION: `${TST}/keys/acm-encrypted.pem`,
    },
  });
  assert.equal(badCert.code, 1);
  assert.match(
    badCert.stderr,
    /^certrole: certificate file ".*invalid-rsa-cert\.pem" is not a valid X\.509 certificate \(.*\): set --certificate/,
  );
  assert.equal(badCert.stderr.trimEnd().split("\n").length, 1, badCert.stderr);
  const badKey = await certrole(["credential-process"], {
    env: {
      ...env,
      ROLESANYWHERE_CERT_LOCATION: `${ML_DSA_DIR}/mldsa44-cert.pem`,
      ROLESANYWHERE_KEY_LOCATION: `${TST}/certs/invalid-rsa-key.pem`,
    },
  });
  assert.equal(badKey.code, 1);
  assert.match(badKey.stderr, /^certrole: private key file ".*invalid-rsa-key\.pem" (is corrupt|holds no private key)/);
  assert.equal(badKey.stderr.trimEnd().split("\n").length, 1, badKey.stderr);
});
