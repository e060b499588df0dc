/**
 * A SigV4 signature must cover `host`, or it could be replayed at another endpoint: a correctly
 * signed request whose SignedHeaders leave host out is refused before its signature is checked,
 * in each service's format (IncompleteSignature for IAM, STS and EC2; S3's AccessDenied naming
 * the unsigned header; IncompleteSignatureException for the Roles Anywhere control plane), and
 * changes nothing.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { FORM, signedCall } from "./support/sigv4_client.ts";

Deno.test("requests signed without host are refused in each service's format", async () => {
  const emulator = await startEmulator();
  try {
    const createRole = "Action=CreateRole&Version=2010-05-08&RoleName=unsigned-host&AssumeRolePolicyDocument=" +
      encodeURIComponent(JSON.stringify({
        Version: "2012-10-17",
        Statement: [{
          Effect: "Allow",
          Principal: { Service: "rolesanywhere.amazonaws.com" },
          Action: "sts:AssumeRole",
        }],
      }));
    const iam = await signedCall(emulator.url, emulator.admin, {
      service: "iam",
      headers: FORM,
      body: createRole,
      unsignedHost: true,
    });
    assert.equal(iam.status, 400, iam.text);
    assert.match(
      iam.text,
      /<Code>IncompleteSignature<\/Code><Message>&apos;Host&apos; or &apos;:authority&apos; must be a &apos;SignedHeader&apos;/,
    );
    assert.deepEqual(Object.keys(emulator.state.roles), []);

    for (
      const [service, body] of [
        ["sts", "Action=GetCallerIdentity&Version=2011-06-15"],
        ["ec2", "Action=DescribeInstances&Version=2016-11-15"],
      ]
    ) {
      const answer = await signedCall(emulator.url, emulator.admin, {
        service,
        headers: FORM,
        body,
        unsignedHost: true,
      });
      assert.equal(answer.status, 400, `${service}: ${answer.text}`);
      assert.match(answer.text, /<Code>IncompleteSignature<\/Code>/);
    }

    const s3 = await signedCall(emulator.url, emulator.admin, {
      service: "s3",
      method: "PUT",
      path: "/unsigned-host",
      unsignedHost: true,
    });
    assert.equal(s3.status, 403, s3.text);
    assert.match(
      s3.text,
      /<Code>AccessDenied<\/Code><Message>There were headers present in the request which were not signed.*host/,
    );
    assert.deepEqual(Object.keys(emulator.state.buckets), []);

    const controlPlane = await signedCall(emulator.url, emulator.admin, {
      service: "rolesanywhere",
      method: "GET",
      path: "/trustanchors",
      unsignedHost: true,
    });
    assert.equal(controlPlane.status, 403, controlPlane.text);
    assert.equal(controlPlane.headers.get("x-amzn-errortype"), "IncompleteSignatureException");

    const signedHost = await signedCall(emulator.url, emulator.admin, {
      service: "iam",
      headers: FORM,
      body: createRole,
    });
    assert.equal(signedHost.status, 200, signedHost.text);
  } finally {
    await emulator.close();
  }
});
