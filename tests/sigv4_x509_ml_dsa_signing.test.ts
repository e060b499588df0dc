/**
 * AWS4-X509-MLDSA signing matches a worked vector built independently
 * (tests/fixtures/sigv4-x509-ml-dsa-vector.json: Python's hashlib for the canonical request and
 * string to sign, @noble/post-quantum's deterministic ML-DSA-65 for the signature, verified by
 * Python's `cryptography`), with the official helper's ML-DSA-65 fixture key. A key with its seed
 * signs in WebCrypto, hedged (fresh randomness, as FIPS 204 prefers), so its signature differs
 * each time and `cryptography` verifies it over the pinned string to sign; the same key without
 * its seed (expanded form) signs deterministically, as the helper does, and reproduces the
 * vector's Authorization header byte for byte. Pure ML-DSA: the string to sign itself, no
 * digest, empty context (`cryptography` verifies with no context).
 */
import assert from "node:assert/strict";
import { certificateFromBytes, privateKeyFromBytes } from "../cli/identity/identity.ts";
import { integer, octetString, oid, sequence } from "../cli/identity/der.ts";
import { OID } from "../cli/identity/oids.ts";
import { createSessionRequest, signRequest } from "../cli/signing/sigv4_x509.ts";
import { ROOT, run } from "./support/run.ts";

const FIXTURES = `${ROOT}/tests/fixtures`;
const ML_DSA_DIR = `${FIXTURES}/official-helper-v1.8.0/tst/mldsa-fixtures`;
const vector = JSON.parse(await Deno.readTextFile(`${FIXTURES}/sigv4-x509-ml-dsa-vector.json`));
const certificate = certificateFromBytes(await Deno.readFile(`${ML_DSA_DIR}/mldsa65-cert.pem`), "mldsa65-cert.pem");
const bothDer = Uint8Array.fromBase64(
  (await Deno.readTextFile(`${ML_DSA_DIR}/mldsa65-key.pem`)).split("\n").filter((line) =>
    line && !line.startsWith("-----")
  )
    .join(""),
);
// The "both" form ends with the 4032-byte expanded key: the same key without its seed.
const expandedDer = sequence(
  integer(0n),
  sequence(oid(OID.mlDsa65)),
  octetString(octetString(bothDer.subarray(-4032))),
);

function request() {
  return createSessionRequest({
    endpoint: vector.endpoint,
    region: vector.region,
    trustAnchorArn: vector.trustAnchorArn,
    profileArn: vector.profileArn,
    roleArn: vector.roleArn,
    durationSeconds: vector.durationSeconds,
    roleSessionName: vector.roleSessionName,
    certificate,
    intermediates: [],
    algorithm: "AWS4-X509-MLDSA",
  }, new Date(vector.date));
}

const VERIFY = `
import sys
from cryptography import x509
certificate = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
message, *signatures = sys.stdin.read().split("\\n--\\n")
for signature in signatures:
    certificate.public_key().verify(bytes.fromhex(signature), message.encode())
print(len(signatures), "verified")
`;

async function pythonVerifies(message: string, signatures: string[]): Promise<void> {
  const result = await run("python3", ["-c", VERIFY, `${ML_DSA_DIR}/mldsa65-cert.pem`], {
    stdin: [message, ...signatures].join("\n--\n"),
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), `${signatures.length} verified`);
}

Deno.test("the ML-DSA-65 vector: a seed-holding key signs the pinned string to sign, hedged; Python verifies", async () => {
  const key = await privateKeyFromBytes(bothDer, "mldsa65-key.pem", undefined);
  assert.equal(key.algorithm, "AWS4-X509-MLDSA");
  assert.equal(certificate.serialDecimal, vector.serialDecimal);
  const first = await signRequest(request(), key.signingKey);
  const second = await signRequest(request(), key.signingKey);
  for (const signed of [first, second]) {
    assert.equal(signed.url.href, vector.url);
    assert.equal(signed.body, vector.body);
    assert.equal(signed.canonicalRequest, vector.canonicalRequest);
    assert.equal(signed.stringToSign, vector.stringToSign);
    assert.equal(signed.authorization.split("Signature=")[0], vector.authorization.split("Signature=")[0]);
    assert.equal(signed.headers.Authorization, signed.authorization);
  }
  const signatures = [first, second].map((signed) => signed.authorization.split("Signature=")[1]);
  assert.match(signatures[0], /^[0-9a-f]{6618}$/, "3309 bytes, hex");
  assert.notEqual(signatures[0], signatures[1], "WebCrypto's ML-DSA is hedged");
  await pythonVerifies(vector.stringToSign, signatures);
});

Deno.test("the ML-DSA-65 vector: the expanded-only key reproduces the Authorization header byte for byte", async () => {
  const key = await privateKeyFromBytes(expandedDer, "expanded.der", undefined);
  assert.equal(key.mlDsaForm, "expanded");
  const signed = await signRequest(request(), key.signingKey);
  assert.equal(signed.stringToSign, vector.stringToSign);
  assert.equal(signed.authorization, vector.authorization);
  await pythonVerifies(vector.stringToSign, [signed.authorization.split("Signature=")[1]]);
});
