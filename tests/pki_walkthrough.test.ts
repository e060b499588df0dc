/**
 * The walkthrough done with certrole's own commands, end to end: `pki init-ca` and `pki issue`
 * make the CA and the container certificate, `iam trust-policy` and `iam policy` write the
 * role's documents, and the emulator, seeded with exactly that output, vends credentials to
 * `certrole credential-process` with which the real AWS CLI lists buckets and is refused EC2;
 * a certificate with another CN is refused by the trust policy.
 */
import assert from "node:assert/strict";
import { shellJoin } from "../cli/shell_quote.ts";
import { createProfile, createRole, createTrustAnchor, putRolePolicy } from "../cli/emulator/resources.ts";
import { startEmulator } from "../cli/emulator/server.ts";
import { certrole, certroleArgv, run, tempDir } from "./support/run.ts";

const ENV = { CERTROLE_CA_PASSPHRASE: "ca secret", ROLESANYWHERE_KEY_PASSPHRASE: "container secret" };

async function ok(args: string[], cwd: string): Promise<string> {
  const result = await certrole(args, { cwd, env: ENV });
  assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

Deno.test("pki + iam output through the emulator: credential-process, aws s3 ls, ec2 refused, other CN refused", async () => {
  const dir = await tempDir("certrole walkthrough ");
  await ok(["pki", "init-ca", "--cn", "myPrivateCA", "--key-type", "ec-p384"], dir);
  await ok(["pki", "issue", "--cn", "myContainer"], dir);
  await ok([
    "pki",
    "issue",
    "--cn",
    "someoneElse",
    "--key-type",
    "ec-p256",
    "--cert-out",
    "other.pem",
    "--key-out",
    "other-key.pem",
  ], dir);

  const emulator = await startEmulator();
  try {
    const now = new Date();
    const anchor = createTrustAnchor(emulator.state, {
      name: "myPrivateCA",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: await Deno.readTextFile(`${dir}/ca-cert.pem`) },
      },
    }, now);
    const trustPolicy = await ok([
      "iam",
      "trust-policy",
      "--cn",
      "myContainer",
      "--issuer-cn",
      "myPrivateCA",
      "--trust-anchor-arn",
      anchor.trustAnchorArn,
    ], dir);
    const role = createRole(emulator.state, { roleName: "bucket-lister", assumeRolePolicyDocument: trustPolicy }, now);
    putRolePolicy(
      emulator.state,
      "bucket-lister",
      "list-buckets",
      await ok(["iam", "policy", "--allow", "s3:ListAllMyBuckets"], dir),
    );
    const profile = createProfile(emulator.state, { name: "bucket-lister", roleArns: [role.arn], enabled: true }, now);
    emulator.state.buckets["walkthrough-bucket"] = {
      name: "walkthrough-bucket",
      creationDate: "2024-01-02T03:04:05.000Z",
      owner: "test",
    };
    const arns = {
      ROLESANYWHERE_TRUST_ANCHOR_ARN: anchor.trustAnchorArn,
      ROLESANYWHERE_PROFILE_ARN: profile.profileArn,
      ROLESANYWHERE_ROLE_ARN: role.arn,
      ROLESANYWHERE_ENDPOINT: emulator.url,
    };

    const credentials = await certrole([
      "credential-process",
      "--no-cache",
      "--certificate",
      "cert.pem",
      "--private-key",
      "key.pem",
    ], {
      cwd: dir,
      env: { ...arns, ROLESANYWHERE_KEY_PASSPHRASE: ENV.ROLESANYWHERE_KEY_PASSPHRASE },
    });
    assert.equal(credentials.code, 0, credentials.stderr);
    assert.ok(emulator.state.sessions[JSON.parse(credentials.stdout).AccessKeyId], "issued by the emulator");

    const config = `${dir}/aws-config`;
    await Deno.writeTextFile(
      config,
      `[default]\nregion = us-east-1\ncredential_process = ${
        shellJoin([
          ...certroleArgv(),
          "credential-process",
          "--certificate",
          `${dir}/cert.pem`,
          "--private-key",
          `${dir}/key.pem`,
          "--cache-dir",
          `${dir}/cache`,
        ])
      }\n`,
    );
    const awsEnv = {
      ...arns,
      HOME: dir,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/none`,
      AWS_EC2_METADATA_DISABLED: "true",
      ROLESANYWHERE_KEY_PASSPHRASE: ENV.ROLESANYWHERE_KEY_PASSPHRASE,
    };
    const ls = await run("/usr/bin/aws", ["s3", "ls", "--endpoint-url", emulator.url], { env: awsEnv });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /walkthrough-bucket/);
    const ec2 = await run("/usr/bin/aws", ["ec2", "describe-instances", "--endpoint-url", emulator.url], {
      env: awsEnv,
    });
    assert.notEqual(ec2.code, 0);
    assert.match(ec2.stderr, /UnauthorizedOperation/);

    const other = await certrole([
      "credential-process",
      "--no-cache",
      "--certificate",
      "other.pem",
      "--private-key",
      "other-key.pem",
    ], {
      cwd: dir,
      env: { ...arns, ROLESANYWHERE_KEY_PASSPHRASE: ENV.ROLESANYWHERE_KEY_PASSPHRASE },
    });
    assert.equal(other.code, 1, other.stdout);
    assert.match(
      other.stderr,
      /^certrole: CreateSession failed: AccessDeniedException: Unable to assume role .*bucket-lister: its trust policy does not allow/,
    );
  } finally {
    await emulator.close();
  }
});
