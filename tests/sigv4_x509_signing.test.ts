/**
 * SigV4-X509 signing matches a worked vector built independently (Python and `openssl dgst`,
 * tests/fixtures/sigv4-x509-vector.json) byte for byte, and openssl verifies certrole's RSA and
 * ECDSA (P-256, P-384) signatures over the string to sign.
 */
import assert from "node:assert/strict";
import { certificateFromBytes, privateKeyFromBytes } from "../cli/identity/identity.ts";
import { awsPercentEncode, createSessionRequest, signRequest } from "../cli/signing/sigv4_x509.ts";
import { openssl, ROOT, run, tempDir } from "./support/run.ts";

const FIXTURES = `${ROOT}/tests/fixtures`;
const vector = JSON.parse(await Deno.readTextFile(`${FIXTURES}/sigv4-x509-vector.json`));

async function identity(certPath: string, keyPath: string) {
  const certificate = certificateFromBytes(await Deno.readFile(certPath), certPath);
  const key = await privateKeyFromBytes(await Deno.readFile(keyPath), keyPath, undefined);
  return { certificate, key };
}

Deno.test("the RSA worked vector is reproduced byte for byte", async () => {
  const { certificate, key } = await identity(`${FIXTURES}/vector-rsa-cert.pem`, `${FIXTURES}/vector-rsa-key.pem`);
  assert.equal(certificate.serialDecimal, vector.serialDecimal);
  const request = createSessionRequest({
    endpoint: vector.endpoint,
    region: vector.region,
    trustAnchorArn: vector.trustAnchorArn,
    profileArn: vector.profileArn,
    roleArn: vector.roleArn,
    durationSeconds: vector.durationSeconds,
    roleSessionName: vector.roleSessionName,
    certificate,
    intermediates: [],
    algorithm: key.algorithm,
  }, new Date(vector.date));
  const signed = await signRequest(request, key.signingKey);
  assert.equal(signed.url.href, vector.url);
  assert.equal(signed.body, vector.body);
  assert.equal(signed.canonicalRequest, vector.canonicalRequest);
  assert.equal(signed.stringToSign, vector.stringToSign);
  assert.equal(signed.authorization, vector.authorization);
  assert.deepEqual(Object.keys(signed.headers), ["Content-Type", "Host", "X-Amz-Date", "X-Amz-X509", "Authorization"]);
});

for (const curve of ["P-256", "P-384"]) {
  Deno.test(`ECDSA ${curve} signatures are DER over SHA-256 and openssl verifies them`, async () => {
    const dir = await tempDir();
    await openssl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      `ec_paramgen_curve:${curve}`,
      "-noenc",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
      "-days",
      "1",
      "-subj",
      "/CN=ec-signer",
    ]);
    const { certificate, key } = await identity(`${dir}/cert.pem`, `${dir}/key.pem`);
    assert.equal(key.algorithm, "AWS4-X509-ECDSA-SHA256");
    const signed = await signRequest(
      createSessionRequest({
        endpoint: "https://rolesanywhere.eu-west-1.amazonaws.com",
        region: "eu-west-1",
        trustAnchorArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/x",
        profileArn: "arn:aws:rolesanywhere:eu-west-1:123456789012:profile/y",
        roleArn: "arn:aws:iam::123456789012:role/r",
        durationSeconds: 900,
        certificate,
        intermediates: [],
        algorithm: key.algorithm,
      }, new Date()),
      key.signingKey,
    );
    assert.match(
      signed.authorization,
      /^AWS4-X509-ECDSA-SHA256 Credential=\d+\/\d{8}\/eu-west-1\/rolesanywhere\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-x509, Signature=[0-9a-f]+$/,
    );
    const signature = Uint8Array.fromHex(signed.authorization.split("Signature=")[1]);
    assert.equal(signature[0], 0x30, "a DER SEQUENCE, not raw r||s");
    await Deno.writeTextFile(`${dir}/sts.txt`, signed.stringToSign);
    await Deno.writeFile(`${dir}/sig.der`, signature);
    await openssl(["x509", "-in", `${dir}/cert.pem`, "-pubkey", "-noout", "-out", `${dir}/pub.pem`]);
    const verified = await run("openssl", [
      "dgst",
      "-sha256",
      "-verify",
      `${dir}/pub.pem`,
      "-signature",
      `${dir}/sig.der`,
      `${dir}/sts.txt`,
    ]);
    assert.equal(verified.stdout.trim(), "Verified OK", verified.stderr);
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("intermediates travel in a signed X-Amz-X509-Chain header, comma-joined base64 DER", async () => {
  const { certificate, key } = await identity(`${FIXTURES}/vector-rsa-cert.pem`, `${FIXTURES}/vector-rsa-key.pem`);
  const other = certificateFromBytes(await Deno.readFile(`${FIXTURES}/vector-ec-cert.pem`), "ec");
  const signed = await signRequest(
    createSessionRequest({
      endpoint: "http://127.0.0.1:8080/",
      region: "us-east-1",
      trustAnchorArn: vector.trustAnchorArn,
      profileArn: vector.profileArn,
      roleArn: vector.roleArn,
      durationSeconds: 3600,
      certificate,
      intermediates: [other, certificate],
      algorithm: key.algorithm,
    }, new Date(vector.date)),
    key.signingKey,
  );
  assert.equal(signed.headers["X-Amz-X509-Chain"], `${other.der.toBase64()},${certificate.der.toBase64()}`);
  assert.equal(signed.headers["Host"], "127.0.0.1:8080");
  assert.equal(signed.body, '{"durationSeconds":3600}');
  assert.match(signed.authorization, /SignedHeaders=content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain,/);
  assert.match(signed.canonicalRequest, /\nx-amz-x509-chain:[A-Za-z0-9+/=,]+\n\n/);
});

Deno.test("query values use AWS percent-encoding: %3A, %2F, %20, never +", () => {
  assert.equal(awsPercentEncode("arn:aws:iam::1:role/a b+c*~"), "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc%2A~");
  assert.equal(awsPercentEncode("é!'()"), "%C3%A9%21%27%28%29");
});
