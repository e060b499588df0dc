/**
 * The walkthrough with the real AWS CLI against the emulator: the administrator's IAM and Roles
 * Anywhere commands exactly as the walkthrough writes them (a shell function adds
 * --endpoint-url; the emulator's admin keys are in the environment), the jq look-ups of the
 * three ARNs, then the container's side through credential_process → certrole: `aws s3 ls`
 * lists the buckets, `aws ec2 describe-instances` is refused with UnauthorizedOperation, a
 * certificate with another CN is refused with AccessDeniedException; then every clean-up
 * command, after which nothing is left and the certificate gets no more credentials.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { adminEnv, AWS, bash, credentialProcessEnv, type SessionArns } from "./support/aws_cli.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { run, tempDir } from "./support/run.ts";

const WALKTHROUGH_AWS = `aws() { ${AWS} "$@" --endpoint-url "$ENDPOINT"; }\n`;

const TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [{
    Effect: "Allow",
    Principal: { Service: "rolesanywhere.amazonaws.com" },
    Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
    Condition: { StringEquals: { "aws:PrincipalTag/x509Subject/CN": "myContainer" } },
  }],
};
const POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
};

Deno.test("the walkthrough's commands with /usr/bin/aws against the emulator", async (t) => {
  const dir = await tempDir("certrole walkthrough ");
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "container");
  const stranger = await issueLeaf(ca, "stranger", { cn: "someoneElse" });
  await Deno.writeTextFile(`${dir}/trust-policy.json`, JSON.stringify(TRUST_POLICY, null, 2));
  await Deno.writeTextFile(`${dir}/policy.json`, JSON.stringify(POLICY, null, 2));
  const emulator = await startEmulator();
  const admin = { ...adminEnv(dir, emulator.admin), ENDPOINT: emulator.url };
  let arns: SessionArns | undefined;
  try {
    await t.step("administrator: role, inline policy, trust anchor, profile, then the ARN look-ups", async () => {
      const result = await bash(
        WALKTHROUGH_AWS + `
aws iam create-role --role-name bucket-lister --assume-role-policy-document file://trust-policy.json
aws iam put-role-policy --role-name bucket-lister --policy-name list-buckets --policy-document file://policy.json
aws rolesanywhere create-trust-anchor --enabled --name myPrivateCA --source sourceData={x509CertificateData="$(cat ca-cert.pem)"},sourceType=CERTIFICATE_BUNDLE
aws rolesanywhere create-profile --enabled --name bucket-lister --role-arns "$(aws iam get-role --role-name bucket-lister --query Role.Arn --output text)"
aws s3 mb s3://walkthrough-bucket
aws s3 mb s3://second-bucket
echo "PROFILE_ARN=$(aws rolesanywhere list-profiles | jq -r '.profiles[] | select(.name == "bucket-lister") | .profileArn')"
echo "TRUST_ANCHOR_ARN=$(aws rolesanywhere list-trust-anchors | jq -r '.trustAnchors[] | select(.name == "myPrivateCA") | .trustAnchorArn')"
echo "ROLE_ARN=$(aws iam list-roles | jq -r '.Roles[] | select(.RoleName == "bucket-lister") | .Arn')"
`,
        admin,
        dir,
      );
      assert.equal(result.code, 0, result.stderr);
      const found = Object.fromEntries(
        [...result.stdout.matchAll(/^(\w+_ARN)=(.*)$/gm)].map(([, name, value]) => [name, value]),
      );
      assert.match(found.ROLE_ARN, /^arn:aws:iam::123456789012:role\/bucket-lister$/);
      assert.match(
        found.TRUST_ANCHOR_ARN,
        /^arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor\/[0-9a-f-]{36}$/,
      );
      assert.match(found.PROFILE_ARN, /^arn:aws:rolesanywhere:us-east-1:123456789012:profile\/[0-9a-f-]{36}$/);
      arns = { trustAnchorArn: found.TRUST_ANCHOR_ARN, profileArn: found.PROFILE_ARN, roleArn: found.ROLE_ARN };
      // What the CLI printed is what the emulator holds.
      const profile = Object.values(emulator.state.profiles)[0];
      assert.deepEqual(profile.roleArns, [found.ROLE_ARN]);
      assert.equal(profile.enabled, true);
      assert.equal(
        JSON.parse(emulator.state.roles["bucket-lister"].policies["list-buckets"]).Statement[0].Action,
        "s3:ListAllMyBuckets",
      );
    });

    await t.step("container: aws s3 ls through credential_process lists the buckets", async () => {
      const env = await credentialProcessEnv(dir, "container", leaf, arns!, emulator.url);
      const ls = await run(AWS, ["s3", "ls", "--endpoint-url", emulator.url], { env });
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, / walkthrough-bucket$/m);
      assert.match(ls.stdout, / second-bucket$/m);
    });

    await t.step("container: aws ec2 describe-instances is refused with UnauthorizedOperation", async () => {
      const env = await credentialProcessEnv(dir, "container", leaf, arns!, emulator.url);
      const ec2 = await run(
        AWS,
        ["ec2", "describe-instances", "--region", "us-east-1", "--endpoint-url", emulator.url],
        {
          env,
        },
      );
      assert.equal(ec2.code, 254, ec2.stderr);
      assert.match(
        ec2.stderr,
        /An error occurred \(UnauthorizedOperation\) when calling the DescribeInstances operation: You are not authorized to perform this operation\./,
      );
    });

    await t.step("a certificate with another CN: AccessDeniedException from CreateSession", async () => {
      const env = await credentialProcessEnv(dir, "stranger", stranger, arns!, emulator.url);
      const ls = await run(AWS, ["s3", "ls", "--endpoint-url", emulator.url], { env });
      assert.notEqual(ls.code, 0);
      assert.match(ls.stderr, /AccessDeniedException/);
    });

    await t.step("clean-up: every resource deleted with the walkthrough's commands", async () => {
      const result = await bash(
        WALKTHROUGH_AWS + `
aws rolesanywhere delete-profile --profile-id "$(aws rolesanywhere list-profiles | jq -r '.profiles[] | select(.name == "bucket-lister") | .profileId')"
aws rolesanywhere delete-trust-anchor --trust-anchor-id "$(aws rolesanywhere list-trust-anchors | jq -r '.trustAnchors[] | select(.name == "myPrivateCA") | .trustAnchorId')"
aws iam delete-role-policy --role-name bucket-lister --policy-name list-buckets
aws iam delete-role --role-name bucket-lister
aws s3 rb s3://walkthrough-bucket
aws s3 rb s3://second-bucket
echo "profiles=$(aws rolesanywhere list-profiles | jq '.profiles | length')"
echo "anchors=$(aws rolesanywhere list-trust-anchors | jq '.trustAnchors | length')"
echo "roles=$(aws iam list-roles | jq '.Roles | length')"
`,
        admin,
        dir,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^profiles=0$/m);
      assert.match(result.stdout, /^anchors=0$/m);
      assert.match(result.stdout, /^roles=0$/m);
      assert.deepEqual(Object.keys(emulator.state.buckets), []);
      const env = await credentialProcessEnv(dir, "after", leaf, arns!, emulator.url);
      const ls = await run(AWS, ["s3", "ls", "--endpoint-url", emulator.url], { env });
      assert.notEqual(ls.code, 0);
      assert.match(ls.stderr, /ResourceNotFoundException/);
    });
  } finally {
    await emulator.close();
  }
});
