/**
 * A captured signed request cannot carry another body. The attack: `certrole iam setup` (the AWS
 * SDK for JavaScript, administrator keys) goes through a snooping proxy, which keeps its signed
 * PutRolePolicy and replays it within the 15 minutes with a body of the same length that grants
 * "Action":"*" to another role. AWS hashes the body it received for every service but S3, so
 * the signature no longer matches: SignatureDoesNotMatch, and the other role gets nothing.
 */
import assert from "node:assert/strict";
import { createRole } from "../cli/emulator/resources.ts";
import { startEmulator } from "../cli/emulator/server.ts";
import { trustPolicy } from "../cli/iam/documents.ts";
import { makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";
import { recordingFront } from "./support/servers.ts";

Deno.test("a signed PutRolePolicy replayed with a same-length body is refused", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const emulator = await startEmulator();
  const front = recordingFront(emulator.url);
  const client = Deno.createHttpClient({ allowHost: true });
  try {
    createRole(emulator.state, {
      roleName: "victim",
      assumeRolePolicyDocument: JSON.stringify(trustPolicy({ cn: "victim" })),
    }, new Date());
    const setup = await certrole(
      [
        "iam",
        "setup",
        "--role-name",
        "bucket-lister",
        "--cn",
        "myContainer",
        "--ca",
        ca.cert,
        "--allow",
        "s3:ListAllMyBuckets",
      ],
      {
        env: {
          AWS_ACCESS_KEY_ID: emulator.admin.accessKeyId,
          AWS_SECRET_ACCESS_KEY: emulator.admin.secretAccessKey,
          AWS_REGION: "us-east-1",
          AWS_ENDPOINT_URL: front.url,
          HOME: dir,
          AWS_CONFIG_FILE: `${dir}/no-config`,
          AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
        },
      },
    );
    assert.equal(setup.code, 0, setup.stderr);
    const captured = front.recorded.find((request) =>
      new URLSearchParams(new TextDecoder().decode(request.body)).get("Action") === "PutRolePolicy"
    );
    assert.ok(captured, "iam setup sent PutRolePolicy through the front");

    const grant = encodeURIComponent(
      JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
    );
    let forged = `Action=PutRolePolicy&Version=2010-05-08&RoleName=victim&PolicyName=pwned&PolicyDocument=${grant}`;
    const padding = captured.body.length - forged.length - "&Padding=".length;
    assert.ok(padding >= 0, "the forged body fits in the captured one's length");
    forged += `&Padding=${"x".repeat(padding)}`;
    assert.equal(forged.length, captured.body.length);

    const replayed = await fetch(`${emulator.url}${captured.target}`, {
      method: captured.method,
      headers: captured.headers,
      body: forged,
      client,
    });
    const text = await replayed.text();
    assert.equal(replayed.status, 403, text);
    assert.match(text, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.deepEqual(Object.keys(emulator.state.roles.victim.policies), [], "the forged policy took effect");

    // The captured request itself, unchanged, is still what it was: a valid signature.
    const again = await fetch(`${emulator.url}${captured.target}`, {
      method: captured.method,
      headers: captured.headers,
      body: captured.body,
      client,
    });
    await again.body?.cancel();
    assert.equal(again.status, 200);
  } finally {
    client.close();
    await front.close();
    await emulator.close();
  }
});
