/**
 * `certrole iam setup` and `certrole iam cleanup` against the emulator, through the AWS SDK for
 * JavaScript with the admin keys in the environment: setup makes the trust anchor, role (trust
 * policy on the CN and this trust anchor), inline policy and profile, prints the three ARNs and
 * writes an env-file that credential-process accepts; running it again changes nothing, a
 * different --allow updates the policy in place, a disabled profile is enabled again; cleanup
 * removes everything and can run twice. Missing credentials are a one-line error.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole iam setup ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "container");
const stranger = await issueLeaf(ca, "stranger", { cn: "someoneElse" });

const SETUP = ["iam", "setup", "--role-name", "bucket-lister", "--cn", "myContainer", "--ca", ca.cert];

function parseEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").filter((line) => line && !line.startsWith("#")).map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at), line.slice(at + 1)];
    }),
  );
}

Deno.test("iam setup converges and iam cleanup removes, against the emulator", async (t) => {
  const emulator = await startEmulator();
  const env = {
    AWS_ACCESS_KEY_ID: emulator.admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulator.admin.secretAccessKey,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: emulator.url,
    HOME: dir,
    AWS_CONFIG_FILE: `${dir}/no-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
  };
  const envFile = `${dir}/bucket-lister.env`;
  const counts = () => ({
    roles: Object.keys(emulator.state.roles).length,
    anchors: Object.keys(emulator.state.trustAnchors).length,
    profiles: Object.keys(emulator.state.profiles).length,
  });
  try {
    let arns: Record<string, string> = {};
    await t.step("setup: creates the four resources, prints the ARNs, writes the env-file", async () => {
      const result = await certrole([...SETUP, "--allow", "s3:ListAllMyBuckets", "--env-file", envFile], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /✓ trust anchor myPrivateCA: created/);
      assert.match(result.stdout, /✓ role bucket-lister .*: created/);
      assert.match(result.stdout, /✓ inline policy permissions .*: created/);
      assert.match(result.stdout, /✓ profile bucket-lister: created/);
      arns = parseEnvFile(await Deno.readTextFile(envFile));
      assert.match(
        arns.ROLESANYWHERE_TRUST_ANCHOR_ARN,
        /^arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor\/[0-9a-f-]{36}$/,
      );
      assert.match(
        arns.ROLESANYWHERE_PROFILE_ARN,
        /^arn:aws:rolesanywhere:us-east-1:123456789012:profile\/[0-9a-f-]{36}$/,
      );
      assert.equal(arns.ROLESANYWHERE_ROLE_ARN, "arn:aws:iam::123456789012:role/bucket-lister");
      assert.equal(arns.ROLESANYWHERE_ENDPOINT, emulator.url);
      for (const [name, value] of Object.entries(arns)) {
        if (name !== "ROLESANYWHERE_ENDPOINT") assert.ok(result.stdout.includes(`${name}=${value}`));
      }
      assert.deepEqual(counts(), { roles: 1, anchors: 1, profiles: 1 });
      const trust = JSON.parse(emulator.state.roles["bucket-lister"].assumeRolePolicyDocument);
      assert.deepEqual(trust.Statement[0].Condition, {
        StringEquals: { "aws:PrincipalTag/x509Subject/CN": "myContainer" },
        ArnEquals: { "aws:SourceArn": arns.ROLESANYWHERE_TRUST_ANCHOR_ARN },
      });
    });

    await t.step("the env-file is all credential-process needs besides the certificate and key", async () => {
      const result = await certrole(["credential-process", "--no-cache"], {
        env: {
          ...parseEnvFile(await Deno.readTextFile(envFile)),
          ROLESANYWHERE_CERT_LOCATION: leaf.cert,
          ROLESANYWHERE_KEY_LOCATION: leaf.key,
          ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
        },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(JSON.parse(result.stdout).AccessKeyId, /^ASIA/);
      const refused = await certrole(["credential-process", "--no-cache"], {
        env: {
          ...parseEnvFile(await Deno.readTextFile(envFile)),
          ROLESANYWHERE_CERT_LOCATION: stranger.cert,
          ROLESANYWHERE_KEY_LOCATION: stranger.key,
          ROLESANYWHERE_KEY_PASSPHRASE: stranger.passphrase!,
        },
      });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /AccessDeniedException/);
    });

    await t.step("running it again changes nothing and duplicates nothing", async () => {
      const result = await certrole([...SETUP, "--allow", "s3:ListAllMyBuckets", "--json"], { env });
      assert.equal(result.code, 0, result.stderr);
      const output = JSON.parse(result.stdout);
      assert.deepEqual(output.steps.map((step: { change: string }) => step.change), [
        "unchanged",
        "unchanged",
        "unchanged",
        "unchanged",
      ]);
      assert.equal(output.trustAnchorArn, arns.ROLESANYWHERE_TRUST_ANCHOR_ARN);
      assert.equal(output.profileArn, arns.ROLESANYWHERE_PROFILE_ARN);
      assert.deepEqual(counts(), { roles: 1, anchors: 1, profiles: 1 });
    });

    await t.step("a different --allow updates the policy; a disabled profile is enabled again", async () => {
      const profile = Object.values(emulator.state.profiles)[0];
      profile.enabled = false;
      const result = await certrole([
        ...SETUP,
        "--allow",
        "s3:ListAllMyBuckets",
        "--allow",
        "s3:CreateBucket",
        "--json",
      ], {
        env,
      });
      assert.equal(result.code, 0, result.stderr);
      const changes = JSON.parse(result.stdout).steps.map((step: { change: string }) => step.change);
      assert.deepEqual(changes, ["unchanged", "unchanged", "updated", "updated"]);
      assert.equal(profile.enabled, true);
      const policy = JSON.parse(emulator.state.roles["bucket-lister"].policies.permissions);
      assert.deepEqual(policy.Statement[0].Action, ["s3:ListAllMyBuckets", "s3:CreateBucket"]);
      assert.deepEqual(counts(), { roles: 1, anchors: 1, profiles: 1 });
    });

    await t.step("cleanup removes everything and the env-file; a second cleanup finds nothing", async () => {
      const result = await certrole([
        "iam",
        "cleanup",
        "--role-name",
        "bucket-lister",
        "--ca",
        ca.cert,
        "--env-file",
        envFile,
      ], {
        env,
      });
      assert.equal(result.code, 0, result.stderr);
      for (
        const what of [
          "profile bucket-lister",
          "trust anchor myPrivateCA",
          "inline policy permissions",
          "role bucket-lister",
        ]
      ) {
        assert.match(result.stdout, new RegExp(`✓ ${what}: deleted`));
      }
      assert.deepEqual(counts(), { roles: 0, anchors: 0, profiles: 0 });
      await assert.rejects(Deno.stat(envFile), Deno.errors.NotFound);
      const again = await certrole([
        "iam",
        "cleanup",
        "--role-name",
        "bucket-lister",
        "--trust-anchor-name",
        "myPrivateCA",
      ], {
        env,
      });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /✓ role bucket-lister: already gone/);
    });

    await t.step("one-line errors: no credentials, bad flags, a client certificate given as --ca", async () => {
      const { AWS_ACCESS_KEY_ID: _, AWS_SECRET_ACCESS_KEY: __, ...noCredentials } = env;
      const anonymous = await certrole([...SETUP, "--allow", "s3:ListAllMyBuckets"], { env: noCredentials });
      assert.equal(anonymous.code, 1);
      assert.match(anonymous.stderr, /no AWS credentials found/);
      assert.equal(anonymous.stderr.trim().split("\n").length, 1, anonymous.stderr);
      const noAllow = await certrole(SETUP, { env });
      assert.equal(noAllow.code, 2);
      assert.match(noAllow.stderr, /--allow is required/);
      const badAction = await certrole([...SETUP, "--allow", "ListAllMyBuckets"], { env });
      assert.equal(badAction.code, 2);
      assert.match(badAction.stderr, /is not an IAM action/);
      const leafAsCa = await certrole(
        ["iam", "setup", "--role-name", "r", "--cn", "c", "--ca", leaf.cert, "--allow", "s3:ListAllMyBuckets"],
        { env },
      );
      assert.equal(leafAsCa.code, 1);
      assert.match(leafAsCa.stderr, /is not a CA certificate/);
      const wrongKey = await certrole([...SETUP, "--allow", "s3:ListAllMyBuckets"], {
        env: { ...env, AWS_SECRET_ACCESS_KEY: "wrong" },
      });
      assert.equal(wrongKey.code, 1);
      assert.match(wrongKey.stderr, /SignatureDoesNotMatch/);
      assert.deepEqual(counts(), { roles: 0, anchors: 0, profiles: 0 });
    });
  } finally {
    await emulator.close();
  }
});
