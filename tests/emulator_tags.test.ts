/**
 * The emulator keeps tags on IAM roles and Roles Anywhere trust anchors and profiles, in each
 * service's wire format and with each service's rules, as the real AWS CLI v2 and the AWS SDK
 * for JavaScript v3 send and read them: IAM's Tags on CreateRole and GetRole (not ListRoles),
 * TagRole replacing a key whatever its case, UntagRole, ListRoleTags paged by Marker; Roles
 * Anywhere's tags on CreateTrustAnchor and CreateProfile, TagResource (keys case-sensitive),
 * UntagResource, ListTagsForResource; and the errors: a reserved `aws:` key, a value outside
 * the service's character set (IAM takes any script, Roles Anywhere ASCII), too many tags
 * (IAM LimitExceeded over 50, Roles Anywhere TooManyTagsException over 200), an unknown
 * resource, and a role session without iam:TagRole creating a role with tags.
 */
import assert from "node:assert/strict";
import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  ListRolesCommand,
  ListRoleTagsCommand,
  TagRoleCommand,
} from "@aws-sdk/client-iam";
import {
  CreateProfileCommand,
  CreateTrustAnchorCommand,
  ListTagsForResourceCommand,
  RolesAnywhereClient,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-rolesanywhere";
import { createRole, putRolePolicy } from "../cli/emulator/resources.ts";
import { startEmulator } from "../cli/emulator/server.ts";
import { trustPolicy } from "../cli/iam/documents.ts";
import { adminEnv, AWS } from "./support/aws_cli.ts";
import { makeCa } from "./support/pki.ts";
import { run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole emulator tags ");
const caPem = await Deno.readTextFile((await makeCa(dir)).cert);
const SOURCE = JSON.stringify({ sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: caPem } });
const TRUST = JSON.stringify(trustPolicy({ cn: "myContainer" }));

async function cli(url: string, env: Record<string, string>, args: readonly string[]) {
  const result = await run(AWS, [...args, "--endpoint-url", url, "--output", "json"], { env });
  return { ...result, json: result.code === 0 && result.stdout.trim() ? JSON.parse(result.stdout) : undefined };
}

Deno.test("AWS CLI: IAM role tags", async () => {
  const emulator = await startEmulator();
  const env = adminEnv(dir, emulator.admin);
  const aws = (...args: string[]) => cli(emulator.url, env, args);
  try {
    const created = await aws(
      "iam",
      "create-role",
      "--role-name",
      "tagged",
      "--assume-role-policy-document",
      TRUST,
      "--tags",
      "Key=team,Value=blue",
      "Key=site,Value=Zürich café",
    );
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(created.json.Role.Tags, [{ Key: "team", Value: "blue" }, { Key: "site", Value: "Zürich café" }]);
    assert.deepEqual((await aws("iam", "get-role", "--role-name", "tagged")).json.Role.Tags, created.json.Role.Tags);

    const tagged = await aws(
      "iam",
      "tag-role",
      "--role-name",
      "tagged",
      "--tags",
      "Key=TEAM,Value=green",
      "Key=x,Value=",
    );
    assert.equal(tagged.code, 0, tagged.stderr);
    const first = await aws("iam", "list-role-tags", "--role-name", "tagged", "--max-items", "1");
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.json.Tags, [{ Key: "TEAM", Value: "green" }], "TEAM replaced team, in place");
    assert.equal(first.json.IsTruncated, true);
    const rest = await aws("iam", "list-role-tags", "--role-name", "tagged", "--marker", first.json.Marker);
    assert.deepEqual(rest.json.Tags, [{ Key: "site", Value: "Zürich café" }, { Key: "x", Value: "" }]);
    assert.equal((await aws("iam", "untag-role", "--role-name", "tagged", "--tag-keys", "Team", "nope")).code, 0);
    assert.deepEqual(
      (await aws("iam", "list-role-tags", "--role-name", "tagged")).json.Tags.map((t: { Key: string }) => t.Key),
      [
        "site",
        "x",
      ],
    );

    const reserved = await aws("iam", "tag-role", "--role-name", "tagged", "--tags", "Key=aws:owner,Value=me");
    assert.equal(reserved.code, 254);
    assert.match(reserved.stderr, /\(InvalidInput\).*aws: prefix is reserved/);
    assert.equal(emulator.state.roles.tagged.tags!.length, 2, "a refused request changes nothing");
  } finally {
    await emulator.close();
  }
});

Deno.test("AWS CLI: Roles Anywhere trust anchor tags", async () => {
  const emulator = await startEmulator();
  const env = adminEnv(dir, emulator.admin);
  const aws = (...args: string[]) => cli(emulator.url, env, args);
  try {
    const anchor = await aws(
      "rolesanywhere",
      "create-trust-anchor",
      "--name",
      "ca",
      "--source",
      SOURCE,
      "--tags",
      "key=team,value=blue",
    );
    assert.equal(anchor.code, 0, anchor.stderr);
    const arn = anchor.json.trustAnchor.trustAnchorArn;
    assert.equal(anchor.json.trustAnchor.tags, undefined, "TrustAnchorDetail has no tags");
    const tags = (resourceArn: string) => aws("rolesanywhere", "list-tags-for-resource", "--resource-arn", resourceArn);
    assert.deepEqual((await tags(arn)).json.tags, [{ key: "team", value: "blue" }]);

    assert.equal(
      (await aws("rolesanywhere", "tag-resource", "--resource-arn", arn, "--tags", "key=TEAM,value=green")).code,
      0,
    );
    assert.equal((await aws("rolesanywhere", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")).code, 0);
    assert.deepEqual((await tags(arn)).json.tags, [{ key: "TEAM", value: "green" }], "TEAM and team were two tags");

    const many = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: "v" })));
    const tooMany = await aws("rolesanywhere", "tag-resource", "--resource-arn", arn, "--tags", many);
    assert.match(tooMany.stderr, /\(TooManyTagsException\)/);
    assert.deepEqual(
      (await tags(arn)).json.tags,
      [{ key: "TEAM", value: "green" }],
      "a refused request changes nothing",
    );
  } finally {
    await emulator.close();
  }
});

Deno.test("AWS SDK for JavaScript v3: role and Roles Anywhere tags round-trip", async () => {
  const emulator = await startEmulator();
  const config = {
    region: "us-east-1",
    endpoint: emulator.url,
    credentials: { accessKeyId: emulator.admin.accessKeyId, secretAccessKey: emulator.admin.secretAccessKey },
  };
  const iam = new IAMClient(config);
  const rolesAnywhere = new RolesAnywhereClient(config);
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: "sdk",
        AssumeRolePolicyDocument: TRUST,
        Tags: [{ Key: "certrole:managed-by", Value: "certrole" }],
      }),
    );
    await iam.send(new TagRoleCommand({ RoleName: "sdk", Tags: [{ Key: "certrole:policy", Value: "permissions" }] }));
    const role = await iam.send(new GetRoleCommand({ RoleName: "sdk" }));
    assert.deepEqual(role.Role?.Tags, [
      { Key: "certrole:managed-by", Value: "certrole" },
      { Key: "certrole:policy", Value: "permissions" },
    ]);
    assert.equal((await iam.send(new ListRolesCommand({}))).Roles![0].Tags, undefined, "ListRoles leaves tags out");
    const many = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
    await assert.rejects(iam.send(new TagRoleCommand({ RoleName: "sdk", Tags: many })), {
      name: "LimitExceededException",
    });
    await assert.rejects(iam.send(new ListRoleTagsCommand({ RoleName: "nobody" })), { name: "NoSuchEntityException" });
    const listed = await iam.send(new ListRoleTagsCommand({ RoleName: "sdk", MaxItems: 1 }));
    assert.deepEqual(listed.Tags, [{ Key: "certrole:managed-by", Value: "certrole" }]);
    assert.equal(listed.IsTruncated, true);
    assert.deepEqual(
      (await iam.send(new ListRoleTagsCommand({ RoleName: "sdk", Marker: listed.Marker }))).Tags,
      [{ Key: "certrole:policy", Value: "permissions" }],
    );

    const anchor = await rolesAnywhere.send(
      new CreateTrustAnchorCommand({
        name: "ca",
        source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: caPem } },
        tags: [{ key: "certrole:managed-by", value: "certrole" }],
      }),
    );
    const resourceArn = anchor.trustAnchor!.trustAnchorArn!;
    await rolesAnywhere.send(new TagResourceCommand({ resourceArn, tags: [{ key: "certrole:role/sdk", value: "" }] }));
    assert.deepEqual((await rolesAnywhere.send(new ListTagsForResourceCommand({ resourceArn }))).tags, [
      { key: "certrole:managed-by", value: "certrole" },
      { key: "certrole:role/sdk", value: "" },
    ]);
    await assert.rejects(
      rolesAnywhere.send(new TagResourceCommand({ resourceArn, tags: [{ key: "site", value: "Zürich" }] })),
      { name: "ValidationException" },
    );
    await assert.rejects(
      rolesAnywhere.send(
        new ListTagsForResourceCommand({ resourceArn: resourceArn.replace(/.{12}$/, "000000000000") }),
      ),
      { name: "ResourceNotFoundException" },
    );
    await rolesAnywhere.send(new UntagResourceCommand({ resourceArn, tagKeys: ["certrole:role/sdk"] }));
    assert.deepEqual((await rolesAnywhere.send(new ListTagsForResourceCommand({ resourceArn }))).tags, [
      { key: "certrole:managed-by", value: "certrole" },
    ]);
    const profile = await rolesAnywhere.send(
      new CreateProfileCommand({ name: "p", roleArns: [role.Role!.Arn!], tags: [{ key: "k", value: "v" }] }),
    );
    assert.deepEqual(
      (await rolesAnywhere.send(new ListTagsForResourceCommand({ resourceArn: profile.profile!.profileArn! }))).tags,
      [{ key: "k", value: "v" }],
    );
  } finally {
    iam.destroy();
    rolesAnywhere.destroy();
    await emulator.close();
  }
});

Deno.test("a role session creating a role with tags needs iam:TagRole too", async () => {
  const emulator = await startEmulator();
  try {
    const now = new Date();
    createRole(emulator.state, { roleName: "creator", assumeRolePolicyDocument: TRUST }, now);
    putRolePolicy(
      emulator.state,
      "creator",
      "create-only",
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "iam:CreateRole", Resource: "*" }],
      }),
    );
    const session = {
      accessKeyId: "ASIAEXAMPLEEXAMPLE01",
      secretAccessKey: "s".repeat(40),
      sessionToken: "token",
      expiration: new Date(now.getTime() + 3600_000).toISOString(),
      roleArn: emulator.state.roles.creator.arn,
      roleSessionName: "s",
      trustAnchorArn: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/x",
      profileArn: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/x",
      certificateSerial: "1",
      principalTags: {},
    };
    emulator.state.sessions[session.accessKeyId] = session;
    const env = {
      ...adminEnv(dir, emulator.admin),
      AWS_ACCESS_KEY_ID: session.accessKeyId,
      AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
      AWS_SESSION_TOKEN: session.sessionToken,
    };
    const create = (...extra: string[]) =>
      cli(emulator.url, env, ["iam", "create-role", "--assume-role-policy-document", TRUST, ...extra]);
    const withTags = await create("--role-name", "with-tags", "--tags", "Key=a,Value=b");
    assert.match(withTags.stderr, /\(AccessDenied\).*not authorized to perform: iam:TagRole/);
    assert.equal(emulator.state.roles["with-tags"], undefined);
    const plain = await create("--role-name", "plain");
    assert.equal(plain.code, 0, plain.stderr);
  } finally {
    await emulator.close();
  }
});
