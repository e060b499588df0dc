/**
 * The signature binds the body as AWS binds it. IAM, STS, EC2, the Roles Anywhere control plane
 * and CreateSession hash the body they received, whatever x-amz-content-sha256 claims: a signed
 * header holding another body's hash, or UNSIGNED-PAYLOAD, is SignatureDoesNotMatch (Invalid
 * signature for CreateSession). S3 alone trusts the header, and checks it: it must be there
 * (InvalidRequest), be a SHA-256 or one of S3's markers (InvalidArgument), and equal the body's
 * hash (XAmzContentSHA256Mismatch); UNSIGNED-PAYLOAD and STREAMING-* markers are accepted.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { signedCreateSession } from "./support/create_session.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";
import { FORM, signedCall } from "./support/sigv4_client.ts";

const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).toHex();

Deno.test("every service but S3 hashes the received body: a claimed hash or UNSIGNED-PAYLOAD does not sign it", async () => {
  const emulator = await startEmulator();
  try {
    const listRoles = "Action=ListRoles&Version=2010-05-08";
    const unsigned = await signedCall(emulator.url, emulator.admin, {
      service: "iam",
      headers: { ...FORM, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      body: listRoles,
    });
    assert.equal(unsigned.status, 403, unsigned.text);
    assert.match(unsigned.text, /<Code>SignatureDoesNotMatch<\/Code>/);

    // Signed over one body, sent with another of the same length, the header still naming the first.
    const createRole = (name: string) =>
      `Action=CreateRole&Version=2010-05-08&RoleName=${name}&AssumeRolePolicyDocument=` +
      encodeURIComponent(JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Principal: { Service: "rolesanywhere.amazonaws.com" },
          Action: "sts:AssumeRole",
        }],
      }));
    const swapped = await signedCall(emulator.url, emulator.admin, {
      service: "iam",
      headers: FORM,
      body: createRole("signed"),
      sentBody: createRole("forged"),
    });
    assert.equal(swapped.status, 403, swapped.text);
    assert.match(swapped.text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.deepEqual(Object.keys(emulator.state.roles), []);

    const sts = await signedCall(emulator.url, emulator.admin, {
      service: "sts",
      headers: { ...FORM, "x-amz-content-sha256": await sha256("Action=GetCallerIdentity&Version=2011-06-15") },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
      sentBody: "Action=GetCallerIdentity&Version=2011-06-16",
    });
    assert.equal(sts.status, 403, sts.text);
    assert.match(sts.text, /<Code>SignatureDoesNotMatch<\/Code>/);

    const ec2 = await signedCall(emulator.url, emulator.admin, {
      service: "ec2",
      headers: { ...FORM, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      body: "Action=DescribeInstances&Version=2016-11-15",
    });
    assert.equal(ec2.status, 403, ec2.text);
    assert.match(ec2.text, /<Code>SignatureDoesNotMatch<\/Code>/);

    const anchor = JSON.stringify({ name: "forged", source: { sourceType: "CERTIFICATE_BUNDLE" } });
    const controlPlane = await signedCall(emulator.url, emulator.admin, {
      service: "rolesanywhere",
      path: "/trustanchors",
      headers: { "content-type": "application/json", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      body: anchor,
    });
    assert.equal(controlPlane.status, 403, controlPlane.text);
    assert.equal(Object.keys(emulator.state.trustAnchors).length, 0);

    // Without the header (botocore's way for these services) the body's own hash signs it.
    const plain = await signedCall(emulator.url, emulator.admin, {
      service: "iam",
      headers: FORM,
      body: listRoles,
      contentSha256Header: false,
    });
    assert.equal(plain.status, 200, plain.text);
  } finally {
    await emulator.close();
  }
});

Deno.test("CreateSession hashes the received body even when a signed x-amz-content-sha256 names the signed one", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), { durationSeconds: 43200 });
  try {
    const body = JSON.stringify({ durationSeconds: 3600 });
    const headers = { "X-Amz-Content-Sha256": await sha256(body) };
    const honest = await signedCreateSession(walkthrough, leaf, { headers });
    assert.equal(honest.status, 201, JSON.stringify(honest.body));
    const longer = await signedCreateSession(walkthrough, leaf, {
      headers,
      sentBody: JSON.stringify({ durationSeconds: 7200 }),
    });
    assert.equal(longer.status, 403, JSON.stringify(longer.body));
    assert.equal(longer.errorType, "AccessDeniedException");
    assert.match(String(longer.body.message), /Invalid signature/);
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("S3: x-amz-content-sha256 is required, checked against the body, or one of S3's markers", async () => {
  const emulator = await startEmulator();
  try {
    const configuration = "<CreateBucketConfiguration/>";
    const mismatch = await signedCall(emulator.url, emulator.admin, {
      service: "s3",
      method: "PUT",
      path: "/signed-bucket",
      body: configuration,
      sentBody: "<CreateBucketConfiguration></CreateBucketConfiguration>",
    });
    assert.equal(mismatch.status, 400, mismatch.text);
    assert.match(mismatch.text, /<Error><Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.deepEqual(Object.keys(emulator.state.buckets), []);

    const missing = await signedCall(emulator.url, emulator.admin, {
      service: "s3",
      method: "GET",
      contentSha256Header: false,
    });
    assert.equal(missing.status, 400, missing.text);
    assert.match(
      missing.text,
      /<Code>InvalidRequest<\/Code><Message>Missing required header for this request: x-amz-content-sha256/,
    );

    const garbage = await signedCall(emulator.url, emulator.admin, {
      service: "s3",
      method: "GET",
      headers: { "x-amz-content-sha256": "SIGNED-BY-ME" },
    });
    assert.equal(garbage.status, 400, garbage.text);
    assert.match(garbage.text, /<Code>InvalidArgument<\/Code>/);

    for (const marker of ["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]) {
      const accepted = await signedCall(emulator.url, emulator.admin, {
        service: "s3",
        method: "GET",
        headers: { "x-amz-content-sha256": marker },
      });
      assert.equal(accepted.status, 200, `${marker}: ${accepted.text}`);
    }
    const honest = await signedCall(emulator.url, emulator.admin, {
      service: "s3",
      method: "PUT",
      path: "/signed-bucket",
      body: configuration,
    });
    assert.equal(honest.status, 200, honest.text);
    assert.ok(emulator.state.buckets["signed-bucket"]);
  } finally {
    await emulator.close();
  }
});
