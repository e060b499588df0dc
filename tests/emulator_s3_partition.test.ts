/**
 * S3 bucket ARNs name the emulator's partition: in a cn-north-1 emulator, a role policy that
 * allows s3:CreateBucket, s3:ListBucket and s3:DeleteBucket on arn:aws-cn:s3:::BUCKET lets the
 * role's session create, head, list and delete that bucket (and no other), as in AWS China,
 * where bucket ARNs are arn:aws-cn:s3:::BUCKET.
 */
import assert from "node:assert/strict";
import { putRolePolicy } from "../cli/emulator/resources.ts";
import { permissionsPolicy } from "../cli/iam/documents.ts";
import { certificateFromBytes, privateKeyFromBytes } from "../cli/identity/identity.ts";
import { createSessionRequest, signRequest } from "../cli/signing/sigv4_x509.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";
import { signedCall } from "./support/sigv4_client.ts";

Deno.test("a cn-north-1 role policy on arn:aws-cn:s3:::BUCKET allows that bucket's calls", async () => {
  const dir = await tempDir("certrole-s3-partition-");
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf", { cn: "myContainer" });
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), { region: "cn-north-1" });
  try {
    putRolePolicy(
      walkthrough.emulator.state,
      "bucket-lister",
      "one-bucket",
      JSON.stringify(permissionsPolicy({
        allow: ["s3:CreateBucket", "s3:ListBucket", "s3:DeleteBucket"],
        resources: ["arn:aws-cn:s3:::cn-bucket"],
      })),
    );
    const key = await privateKeyFromBytes(await Deno.readFile(leaf.key), "leaf key", {
      value: leaf.passphrase ?? "",
      source: "test",
    });
    const signed = await signRequest(
      createSessionRequest({
        endpoint: walkthrough.emulator.url,
        region: "cn-north-1",
        trustAnchorArn: walkthrough.trustAnchorArn,
        profileArn: walkthrough.profileArn,
        roleArn: walkthrough.roleArn,
        durationSeconds: 900,
        certificate: certificateFromBytes(await Deno.readFile(leaf.cert), "leaf"),
        intermediates: [],
        algorithm: key.algorithm,
      }, new Date()),
      key.signingKey,
    );
    const response = await fetch(signed.url, { method: "POST", headers: signed.headers, body: signed.body });
    const answer = await response.text();
    assert.equal(response.status, 201, answer);
    const credentials = JSON.parse(answer).credentialSet[0].credentials;
    const s3 = (method: string, bucket: string) =>
      signedCall(walkthrough.emulator.url, credentials, {
        service: "s3",
        region: "cn-north-1",
        method,
        path: `/${bucket}`,
      });

    for (const [method, status] of [["PUT", 200], ["HEAD", 200], ["GET", 200], ["DELETE", 204]] as const) {
      const result = await s3(method, "cn-bucket");
      assert.equal(result.status, status, `${method} /cn-bucket: ${result.text}`);
    }
    const other = await s3("PUT", "other-bucket");
    assert.equal(other.status, 403, `PUT /other-bucket: ${other.text}`);
    assert.match(other.text, /<Code>AccessDenied<\/Code>/);
  } finally {
    await walkthrough.emulator.close();
  }
});
