/**
 * The emulator's control plane as the AWS CLI sees it: IAM policy documents come back
 * URL-encoded (the CLI decodes them), a role with inline policies cannot be deleted
 * (DeleteConflict), duplicates and missing entities get IAM's errors, list operations page
 * (the CLI follows Marker and nextToken); trust anchors and profiles are read, updated,
 * disabled and enabled, and CreateSession honours that; session credentials are authorised for
 * control-plane calls by the role's policies like any other call.
 */
import assert from "node:assert/strict";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { createRole, putRolePolicy } from "../cli/emulator/resources.ts";
import { adminEnv, AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole control plane ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "container");

Deno.test("the control plane through the AWS CLI", async (t) => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const { emulator } = walkthrough;
  const env = adminEnv(dir, emulator.admin);
  const aws = async (...args: string[]) => {
    const result = await run(AWS, [...args, "--endpoint-url", emulator.url, "--output", "json"], { env, cwd: dir });
    return { ...result, json: result.code === 0 && result.stdout.trim() ? JSON.parse(result.stdout) : undefined };
  };
  const awsOk = async (...args: string[]) => {
    const result = await aws(...args);
    assert.equal(result.code, 0, `aws ${args.join(" ")}: ${result.stderr}`);
    return result.json;
  };
  try {
    await t.step("GetRolePolicy: URL-encoded on the wire, a JSON document in the CLI", async () => {
      const target = new URL(emulator.url);
      const body = "Action=GetRolePolicy&Version=2010-05-08&RoleName=bucket-lister&PolicyName=list-buckets";
      const signer = new SignatureV4({
        service: "iam",
        region: "us-east-1",
        credentials: emulator.admin,
        sha256: Sha256,
      });
      const signed = await signer.sign({
        method: "POST",
        protocol: "http:",
        hostname: target.hostname,
        port: Number(target.port),
        path: "/",
        headers: { host: target.host, "content-type": "application/x-www-form-urlencoded" },
        body,
      });
      const headers = { ...signed.headers as Record<string, string> };
      delete headers.host;
      const raw = await (await fetch(emulator.url, { method: "POST", headers, body })).text();
      assert.match(raw, /<PolicyDocument>%7B%22Version%22%3A%222012-10-17%22/);
      const policy = await awsOk(
        "iam",
        "get-role-policy",
        "--role-name",
        "bucket-lister",
        "--policy-name",
        "list-buckets",
      );
      assert.deepEqual(policy.PolicyDocument.Statement, [{
        Effect: "Allow",
        Action: "s3:ListAllMyBuckets",
        Resource: "*",
      }]);
      const names = await awsOk("iam", "list-role-policies", "--role-name", "bucket-lister");
      assert.deepEqual(names.PolicyNames, ["list-buckets"]);
    });

    await t.step(
      "IAM's errors: DeleteConflict, EntityAlreadyExists, NoSuchEntity, MalformedPolicyDocument",
      async () => {
        const conflict = await aws("iam", "delete-role", "--role-name", "bucket-lister");
        assert.match(
          conflict.stderr,
          /\(DeleteConflict\) when calling the DeleteRole operation: Cannot delete entity, must delete policies first\./,
        );
        await Deno.writeTextFile(`${dir}/trust.json`, emulator.state.roles["bucket-lister"].assumeRolePolicyDocument);
        const duplicate = await aws(
          "iam",
          "create-role",
          "--role-name",
          "bucket-lister",
          "--assume-role-policy-document",
          "file://trust.json",
        );
        assert.match(duplicate.stderr, /\(EntityAlreadyExists\)/);
        const missing = await aws("iam", "get-role", "--role-name", "nobody");
        assert.match(
          missing.stderr,
          /\(NoSuchEntity\) when calling the GetRole operation: The role with name nobody cannot be found\./,
        );
        const missingPolicy = await aws(
          "iam",
          "get-role-policy",
          "--role-name",
          "bucket-lister",
          "--policy-name",
          "nope",
        );
        assert.match(missingPolicy.stderr, /\(NoSuchEntity\)/);
        await Deno.writeTextFile(
          `${dir}/bad.json`,
          '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*"}]}',
        );
        const malformed = await aws(
          "iam",
          "put-role-policy",
          "--role-name",
          "bucket-lister",
          "--policy-name",
          "bad",
          "--policy-document",
          "file://bad.json",
        );
        assert.match(malformed.stderr, /\(MalformedPolicyDocument\)/);
        const role = await awsOk("iam", "get-role", "--role-name", "bucket-lister");
        assert.equal(role.Role.AssumeRolePolicyDocument.Statement[0].Principal.Service, "rolesanywhere.amazonaws.com");
        assert.match(role.Role.CreateDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      },
    );

    await t.step("lists page: the CLI follows Marker and nextToken to the end", async () => {
      for (const name of ["extra-a", "extra-b", "extra-c"]) {
        createRole(emulator.state, {
          roleName: name,
          assumeRolePolicyDocument: emulator.state.roles["bucket-lister"].assumeRolePolicyDocument,
        }, new Date());
        await awsOk(
          "rolesanywhere",
          "create-trust-anchor",
          "--name",
          name,
          "--source",
          `sourceData={x509CertificateData=${await Deno.readTextFile(ca.cert)}},sourceType=CERTIFICATE_BUNDLE`,
        );
      }
      const roles = await awsOk("iam", "list-roles", "--page-size", "1");
      assert.deepEqual(roles.Roles.map((role: { RoleName: string }) => role.RoleName), [
        "bucket-lister",
        "extra-a",
        "extra-b",
        "extra-c",
      ]);
      const firstPage = await awsOk("iam", "list-roles", "--max-items", "2");
      assert.equal(firstPage.Roles.length, 2);
      assert.ok(firstPage.NextToken);
      const anchors = await awsOk("rolesanywhere", "list-trust-anchors", "--page-size", "1");
      assert.deepEqual(anchors.trustAnchors.map((anchor: { name: string }) => anchor.name), [
        "myPrivateCA",
        "extra-a",
        "extra-b",
        "extra-c",
      ]);
      assert.equal(anchors.trustAnchors[1].enabled, false, "created without --enabled: disabled, as in AWS");
    });

    await t.step("trust anchor and profile: get, update, disable (CreateSession refused), enable", async () => {
      const session = await credentialProcessEnv(dir, "session", leaf, walkthrough, emulator.url);
      const works = () => run(AWS, ["s3", "ls", "--endpoint-url", emulator.url], { env: session });
      const anchor = await awsOk("rolesanywhere", "get-trust-anchor", "--trust-anchor-id", walkthrough.trustAnchorId);
      assert.equal(anchor.trustAnchor.trustAnchorArn, walkthrough.trustAnchorArn);
      await awsOk("rolesanywhere", "disable-trust-anchor", "--trust-anchor-id", walkthrough.trustAnchorId);
      assert.match((await works()).stderr, /AccessDeniedException: Trust anchor is disabled/);
      await awsOk("rolesanywhere", "enable-trust-anchor", "--trust-anchor-id", walkthrough.trustAnchorId);
      const profile = await awsOk("rolesanywhere", "disable-profile", "--profile-id", walkthrough.profileId);
      assert.equal(profile.profile.enabled, false);
      assert.match((await works()).stderr, /AccessDeniedException: Profile is disabled/);
      await awsOk("rolesanywhere", "enable-profile", "--profile-id", walkthrough.profileId);
      assert.equal((await works()).code, 0);
      const updated = await awsOk(
        "rolesanywhere",
        "update-profile",
        "--profile-id",
        walkthrough.profileId,
        "--duration-seconds",
        "900",
      );
      assert.equal(updated.profile.durationSeconds, 900);
      const tooLong = await works();
      assert.match(tooLong.stderr, /ValidationException: durationSeconds 3600 exceeds the profile's maximum of 900/);
      await awsOk(
        "rolesanywhere",
        "update-profile",
        "--profile-id",
        walkthrough.profileId,
        "--duration-seconds",
        "3600",
      );
      const removed = await awsOk(
        "rolesanywhere",
        "delete-trust-anchor",
        "--trust-anchor-id",
        walkthrough.trustAnchorId,
      );
      assert.equal(removed.trustAnchor.name, "myPrivateCA");
      const gone = await aws("rolesanywhere", "get-trust-anchor", "--trust-anchor-id", walkthrough.trustAnchorId);
      assert.match(gone.stderr, /\(ResourceNotFoundException\)/);
    });

    await t.step("session credentials are authorised for control-plane calls by the role's policies", async () => {
      const admin = await startWalkthrough(await Deno.readTextFile(ca.cert), {});
      try {
        putRolePolicy(
          admin.emulator.state,
          "bucket-lister",
          "read-iam",
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["iam:Get*", "iam:List*"], Resource: "*" }],
          }),
        );
        const session = await credentialProcessEnv(dir, "reader", leaf, admin, admin.emulator.url);
        const call = (...args: string[]) =>
          run(AWS, [...args, "--endpoint-url", admin.emulator.url], { env: session, cwd: dir });
        const listed = await call("iam", "list-roles");
        assert.equal(listed.code, 0, listed.stderr);
        const created = await call(
          "iam",
          "create-role",
          "--role-name",
          "sneaky",
          "--assume-role-policy-document",
          "file://trust.json",
        );
        assert.match(
          created.stderr,
          /\(AccessDenied\) when calling the CreateRole operation: User: arn:aws:sts::123456789012:assumed-role\/bucket-lister\/[0-9a-f]+ is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::123456789012:role\/sneaky/,
        );
        const profiles = await call("rolesanywhere", "list-profiles");
        assert.match(profiles.stderr, /\(AccessDeniedException\).*rolesanywhere:ListProfiles/);
        assert.equal(admin.emulator.state.roles.sneaky, undefined);
      } finally {
        await admin.emulator.close();
      }
    });
  } finally {
    await emulator.close();
  }
});
