/**
 * The credential scope's region is checked for every service, on an emulator serving eu-west-1:
 * S3, EC2 and the Roles Anywhere control plane take only eu-west-1 (S3 answers
 * AuthorizationHeaderMalformed naming the region it expects); IAM takes its global signing
 * region us-east-1, and eu-west-1 because SDKs given a custom endpoint sign IAM with their own
 * region; STS takes us-east-1 (its global endpoint) and eu-west-1 (regional). Anything else is
 * SignatureDoesNotMatch ("Credential should be scoped to a valid region"). The AWS CLI shows
 * both sides: `iam list-roles` works with an eu-west-1 profile, `s3 ls` with us-east-1 does not.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { AWS } from "./support/aws_cli.ts";
import { run, tempDir } from "./support/run.ts";
import { FORM, signedCall } from "./support/sigv4_client.ts";

const CALLS = {
  iam: { headers: FORM, body: "Action=ListRoles&Version=2010-05-08" },
  sts: { headers: FORM, body: "Action=GetCallerIdentity&Version=2011-06-15" },
  ec2: { headers: FORM, body: "Action=DescribeInstances&Version=2016-11-15" },
  s3: { method: "GET" },
  rolesanywhere: { method: "GET", path: "/trustanchors" },
} as const;

Deno.test("each service accepts only the scope regions AWS accepts for it", async () => {
  const emulator = await startEmulator({ region: "eu-west-1" });
  try {
    const expectations: [keyof typeof CALLS, string, number][] = [
      ["iam", "us-east-1", 200],
      ["iam", "eu-west-1", 200],
      ["iam", "ap-south-1", 403],
      ["sts", "us-east-1", 200],
      ["sts", "eu-west-1", 200],
      ["sts", "us-west-2", 403],
      ["ec2", "eu-west-1", 200],
      ["ec2", "us-east-1", 403],
      ["s3", "eu-west-1", 200],
      ["s3", "us-east-1", 400],
      ["rolesanywhere", "eu-west-1", 200],
      ["rolesanywhere", "us-east-1", 403],
    ];
    for (const [service, region, status] of expectations) {
      const answer = await signedCall(emulator.url, emulator.admin, { service, region, ...CALLS[service] });
      assert.equal(answer.status, status, `${service} scoped to ${region}: ${answer.text}`);
      if (status === 200) continue;
      if (service === "s3") {
        assert.match(
          answer.text,
          /<Code>AuthorizationHeaderMalformed<\/Code><Message>The authorization header is malformed; the region &apos;us-east-1&apos; is wrong; expecting &apos;eu-west-1&apos;/,
        );
      } else if (service === "rolesanywhere") {
        assert.equal(answer.headers.get("x-amzn-errortype"), "InvalidSignatureException");
      } else {
        assert.match(
          answer.text,
          new RegExp(
            `<Code>SignatureDoesNotMatch</Code><Message>Credential should be scoped to a valid region, not &apos;${region}&apos;`,
          ),
        );
      }
    }
  } finally {
    await emulator.close();
  }
});

Deno.test("the AWS CLI against an eu-west-1 emulator: IAM with its eu-west-1 profile works, S3 with us-east-1 does not", async () => {
  const dir = await tempDir();
  const emulator = await startEmulator({ region: "eu-west-1" });
  const env = (region: string) => ({
    HOME: dir,
    AWS_CONFIG_FILE: `${dir}/no-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ACCESS_KEY_ID: emulator.admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulator.admin.secretAccessKey,
    AWS_DEFAULT_REGION: region,
  });
  try {
    const iam = await run(AWS, ["iam", "list-roles", "--endpoint-url", emulator.url], { env: env("eu-west-1") });
    assert.equal(iam.code, 0, iam.stderr);
    const s3 = await run(AWS, ["s3api", "list-buckets", "--endpoint-url", emulator.url], { env: env("us-east-1") });
    assert.notEqual(s3.code, 0);
    assert.match(s3.stderr, /AuthorizationHeaderMalformed/);
  } finally {
    await emulator.close();
  }
});
