/**
 * `certrole iam trust-policy` and `certrole iam policy` print the walkthrough's two documents
 * (byte-for-byte the JSON it has users write by hand, plus the conditions asked for), and refuse
 * actions that are not service:Action and ARNs that do not parse, in one line with exit 2.
 */
import assert from "node:assert/strict";
import { certrole } from "./support/run.ts";

const ANCHOR = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0b1f6a2e-5c7d-4e8f-9a0b-1c2d3e4f5a6b";

async function json(args: string[]): Promise<unknown> {
  const result = await certrole(args);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

Deno.test("trust-policy --cn myContainer is the walkthrough's trust-policy.json", async () => {
  assert.deepEqual(await json(["iam", "trust-policy", "--cn", "myContainer"]), {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: "rolesanywhere.amazonaws.com" },
      Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
      Condition: { StringEquals: { "aws:PrincipalTag/x509Subject/CN": "myContainer" } },
    }],
  });
});

Deno.test("trust-policy with issuer, SANs, subject attributes and trust anchors", async () => {
  const document = await json([
    "iam",
    "trust-policy",
    "--cn",
    "myContainer",
    "--org",
    "Example",
    "--issuer-cn",
    "myPrivateCA",
    "--san-dns",
    "a.example.com",
    "--san-dns",
    "b.example.com",
    "--san-uri",
    "spiffe://example.com/app",
    "--trust-anchor-arn",
    ANCHOR,
  ]) as { Statement: { Condition: unknown }[] };
  assert.deepEqual(document.Statement[0].Condition, {
    StringEquals: {
      "aws:PrincipalTag/x509Subject/CN": "myContainer",
      "aws:PrincipalTag/x509Subject/O": "Example",
      "aws:PrincipalTag/x509Issuer/CN": "myPrivateCA",
      "aws:PrincipalTag/x509SAN/DNS": ["a.example.com", "b.example.com"],
      "aws:PrincipalTag/x509SAN/URI": "spiffe://example.com/app",
    },
    ArnEquals: { "aws:SourceArn": ANCHOR },
  });
  const anchorOnly = await json(["iam", "trust-policy", "--trust-anchor-arn", ANCHOR]) as {
    Statement: { Condition: unknown }[];
  };
  assert.deepEqual(anchorOnly.Statement[0].Condition, { ArnEquals: { "aws:SourceArn": ANCHOR } });
});

Deno.test("policy --allow s3:ListAllMyBuckets is the walkthrough's policy.json", async () => {
  assert.deepEqual(await json(["iam", "policy", "--allow", "s3:ListAllMyBuckets"]), {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
  });
  assert.deepEqual(
    await json([
      "iam",
      "policy",
      "--allow",
      "s3:GetObject,s3:PutObject",
      "--allow",
      "ec2:Describe*",
      "--resource",
      "arn:aws:s3:::my-bucket/*",
      "--resource",
      "arn:aws:ec2:*:123456789012:instance/*",
    ]),
    {
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "ec2:Describe*"],
        Resource: ["arn:aws:s3:::my-bucket/*", "arn:aws:ec2:*:123456789012:instance/*"],
      }],
    },
  );
});

Deno.test("invalid actions, ARNs and empty conditions: one line, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["iam", "policy"], /^certrole: give at least one --allow ACTION$/],
    [
      ["iam", "policy", "--allow", "ListAllMyBuckets"],
      /^certrole: "ListAllMyBuckets" is not an IAM action \(like s3:ListAllMyBuckets or ec2:Describe\*\)$/,
    ],
    [["iam", "policy", "--allow", "s3:List All"], /^certrole: "s3:List All" is not an IAM action/],
    [["iam", "policy", "--allow", "S3:ListAllMyBuckets"], /^certrole: "S3:ListAllMyBuckets" is not an IAM action/],
    [
      ["iam", "policy", "--allow", "s3:ListAllMyBuckets", "--resource", "my-bucket"],
      /^certrole: "my-bucket" is not "\*" or an ARN \(it is not arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE\): use e\.g\. arn:aws:s3:::my-bucket$/,
    ],
    [
      ["iam", "policy", "--allow", "s3:GetObject", "--resource", "arn:aws:s3"],
      /^certrole: "arn:aws:s3" is not "\*" or an ARN/,
    ],
    [["iam", "policy", "--allow", "s3:GetObject", "--resource", "arn:amazon:s3:::b"], /partition "amazon" is not aws/],
    [
      ["iam", "policy", "--allow", "s3:GetObject", "--resource", "arn:aws:s3::12345:b"],
      /account "12345" is not a 12-digit account ID/,
    ],
    [
      ["iam", "trust-policy"],
      /^certrole: a trust policy without conditions lets every certificate the trust anchor accepts assume the role: give --cn/,
    ],
    [["iam", "trust-policy", "--cn", ""], /^certrole: --cn must not be empty$/],
    [
      ["iam", "trust-policy", "--cn", "c", "--trust-anchor-arn", "arn:aws:iam::123456789012:role/x"],
      /^certrole: "arn:aws:iam::123456789012:role\/x" is not a trust anchor ARN \(it is not a Roles Anywhere trust anchor\): use arn:aws:rolesanywhere:REGION:ACCOUNT:trust-anchor\/ID$/,
    ],
    [
      [
        "iam",
        "trust-policy",
        "--cn",
        "c",
        "--trust-anchor-arn",
        "arn:aws:rolesanywhere::123456789012:trust-anchor/abc",
      ],
      /region "" is not a region like us-east-1/,
    ],
    [
      ["iam", "trust-policy", "--cn", "c", "--trust-anchor-arn", "arn:aws:rolesanywhere:us-east-1:*:trust-anchor/abc"],
      /account "\*" is not a 12-digit account ID/,
    ],
    [["iam", "trust-policy", "--cn", "c", "--trust-anchor-arn", "trust-anchor/abc"], /is not a trust anchor ARN/],
    [["iam", "nope"], /^certrole: unknown command "iam nope"; `iam` has: trust-policy, policy: see certrole --help$/],
  ];
  for (const [args, message] of cases) {
    const result = await certrole(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr.trimEnd(), message, args.join(" "));
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.equal(result.stdout, "");
  }
});
