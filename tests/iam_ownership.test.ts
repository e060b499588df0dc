/**
 * `certrole iam setup` and `certrole iam cleanup` run with a real account's administrator
 * credentials, so they touch only what certrole made: against the emulator, through certrole
 * and with resources made beforehand by hand (seeded through the emulator's resource functions,
 * the ones its API calls), this proves that cleaning
 * up one of two roles on the same CA keeps the trust anchor the other still uses (and so does
 * a role made by hand that trusts it; cleaning up that role leaves it alone); that cleanup
 * deletes only the inline policy certrole wrote (and keeps a role that holds others), and setup
 * replaces only that one; that setup refuses, with one line naming the resource and --adopt and
 * before changing anything, to take over a role, inline policy, trust anchor with another CA or
 * profile it did not create (and a profile it made for another role, even with --adopt); that it
 * reuses a trust anchor that already holds the CA (the same certificate, however its PEM is
 * written) instead of making a second one, without writing to it (so a disabled one needs
 * --adopt), and that cleanup keeps that anchor; and that what setup creates carries the
 * certrole:* tags, read back with the AWS CLI.
 */
import assert from "node:assert/strict";
import { createProfile, createRole, createTrustAnchor, putRolePolicy } from "../cli/emulator/resources.ts";
import { type Emulator, startEmulator } from "../cli/emulator/server.ts";
import { type Ca, issueLeaf, makeCa } from "./support/pki.ts";
import { adminEnv, AWS } from "./support/aws_cli.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole iam ownership ");
const ca = await makeCa(`${dir}/ca`);
const otherCa = await makeCa(`${dir}/other-ca`, { cn: "myPrivateCA" });
const leafA = await issueLeaf(ca, "a", { cn: "containerA" });
const leafB = await issueLeaf(ca, "b", { cn: "containerB" });

interface Account {
  readonly emulator: Emulator;
  readonly env: Record<string, string>;
  /** certrole iam setup|cleanup ARGS against the emulator. */
  iam(args: readonly string[]): ReturnType<typeof certrole>;
  /** /usr/bin/aws ARGS --output json against the emulator, parsed; fails the test when aws does. */
  aws(args: readonly string[]): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function account(): Promise<Account> {
  const emulator = await startEmulator();
  const env = { ...adminEnv(dir, emulator.admin), AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: emulator.url };
  return {
    emulator,
    env,
    iam: (args) => certrole(["iam", ...args], { env }),
    async aws(args) {
      const result = await run(AWS, [...args, "--endpoint-url", emulator.url, "--output", "json"], { env });
      assert.equal(result.code, 0, `aws ${args.join(" ")}: ${result.stderr}`);
      return result.stdout.trim() ? JSON.parse(result.stdout) : {};
    },
    close: () => emulator.close(),
  };
}

function setupArgs(role: string, cn: string, authority: Ca = ca): string[] {
  return ["setup", "--role-name", role, "--cn", cn, "--ca", authority.cert, "--allow", "s3:ListAllMyBuckets"];
}

function envFileValues(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").filter((line) => line && !line.startsWith("#")).map((line) => {
      const at = line.indexOf("=");
      return [line.slice(0, at), line.slice(at + 1)];
    }),
  );
}

/** The one-line refusal: exit 1, a single stderr line that matches every pattern. */
function assertRefused(result: { code: number; stderr: string }, ...patterns: RegExp[]) {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  for (const pattern of patterns) assert.match(result.stderr, pattern);
}

const counts = (emulator: Emulator) => ({
  roles: Object.keys(emulator.state.roles).length,
  anchors: Object.keys(emulator.state.trustAnchors).length,
  profiles: Object.keys(emulator.state.profiles).length,
});

const TRUST_EC2 = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

Deno.test("two roles on one CA share a trust anchor; cleaning up one keeps it for the other", async () => {
  const aws = await account();
  try {
    const a = await aws.iam([...setupArgs("role-a", "containerA"), "--env-file", `${dir}/a.env`]);
    assert.equal(a.code, 0, a.stderr);
    const b = await aws.iam([...setupArgs("reader,ci", "containerB"), "--env-file", `${dir}/b.env`]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(counts(aws.emulator).anchors, 1, "role b reused role a's trust anchor");
    const anchorArn = envFileValues(await Deno.readTextFile(`${dir}/b.env`)).ROLESANYWHERE_TRUST_ANCHOR_ARN;

    const cleanup = await aws.iam(["cleanup", "--role-name", "role-a", "--ca", ca.cert]);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.match(cleanup.stdout, /✓ trust anchor myPrivateCA: kept \(still used by role reader,ci\)/);
    assert.match(cleanup.stdout, /✓ role role-a: deleted/);
    assert.match(cleanup.stdout, /✓ profile role-a: deleted/);
    assert.deepEqual(counts(aws.emulator), { roles: 1, anchors: 1, profiles: 1 });
    const tags = await aws.aws(["rolesanywhere", "list-tags-for-resource", "--resource-arn", anchorArn]);
    assert.deepEqual(tags.tags, [
      { key: "certrole:managed-by", value: "certrole" },
      { key: "certrole:role/reader:ci", value: "" },
    ], "role a's use is gone from the anchor's tags, role b's is kept (',' is ':' in tags)");

    const credentials = await certrole(["credential-process", "--no-cache"], {
      env: {
        ...envFileValues(await Deno.readTextFile(`${dir}/b.env`)),
        ROLESANYWHERE_CERT_LOCATION: leafB.cert,
        ROLESANYWHERE_KEY_LOCATION: leafB.key,
        ROLESANYWHERE_KEY_PASSPHRASE: leafB.passphrase!,
      },
    });
    assert.equal(credentials.code, 0, `role b still gets credentials: ${credentials.stderr}`);

    const last = await aws.iam(["cleanup", "--role-name", "reader,ci", "--ca", ca.cert]);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, /✓ trust anchor myPrivateCA: deleted/);
    assert.deepEqual(counts(aws.emulator), { roles: 0, anchors: 0, profiles: 0 });
  } finally {
    await aws.close();
  }
});

Deno.test("cleanup keeps a trust anchor that a role made by hand trusts, and that role", async () => {
  const aws = await account();
  try {
    const a = await aws.iam([...setupArgs("role-a", "containerA"), "--json"]);
    assert.equal(a.code, 0, a.stderr);
    const { trustAnchorArn } = JSON.parse(a.stdout);
    const handMade = JSON.parse(aws.emulator.state.roles["role-a"].assumeRolePolicyDocument);
    handMade.Statement[0].Condition.StringEquals["aws:PrincipalTag/x509Subject/CN"] = "containerB";
    createRole(
      aws.emulator.state,
      { roleName: "by-hand", assumeRolePolicyDocument: JSON.stringify(handMade) },
      new Date(),
    );
    const cleanup = await aws.iam(["cleanup", "--role-name", "role-a"]);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.match(cleanup.stdout, /✓ trust anchor myPrivateCA: kept \(still used by role by-hand\)/);
    assert.ok(aws.emulator.state.trustAnchors[trustAnchorArn.split("/").pop()]);
    const foreign = await aws.iam(["cleanup", "--role-name", "by-hand"]);
    assert.equal(foreign.code, 0, foreign.stderr);
    assert.match(foreign.stdout, /✓ role by-hand: kept \(not created by certrole\)/);
    assert.match(foreign.stdout, /✓ trust anchor myPrivateCA: kept \(still used by role by-hand\)/);
    assert.deepEqual(counts(aws.emulator), { roles: 1, anchors: 1, profiles: 0 });
  } finally {
    await aws.close();
  }
});

Deno.test("setup and cleanup touch only the inline policy certrole wrote; a role holding others is kept", async () => {
  const aws = await account();
  try {
    const setup = await aws.iam(setupArgs("role-a", "containerA"));
    assert.equal(setup.code, 0, setup.stderr);
    const extra = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::team-bucket/*" }],
    });
    putRolePolicy(aws.emulator.state, "role-a", "team", extra);
    const overwrite = await aws.iam([...setupArgs("role-a", "containerA"), "--policy-name", "team"]);
    assertRefused(
      overwrite,
      /inline policy "team" of role "role-a"/,
      /not written by certrole/,
      /--policy-name/,
      /--adopt/,
    );
    assert.equal(aws.emulator.state.roles["role-a"].policies.team, extra);

    const renamed = await aws.iam([...setupArgs("role-a", "containerA"), "--policy-name", "reader"]);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.match(renamed.stdout, /✓ inline policy reader .*: created/);
    assert.match(renamed.stdout, /✓ inline policy permissions: deleted \(replaced by reader\)/);
    assert.deepEqual(Object.keys(aws.emulator.state.roles["role-a"].policies).sort(), ["reader", "team"]);

    const cleanup = await aws.iam(["cleanup", "--role-name", "role-a", "--ca", ca.cert]);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.match(cleanup.stdout, /✓ inline policy reader: deleted/);
    assert.doesNotMatch(cleanup.stdout, /inline policy team/);
    assert.match(cleanup.stdout, /✓ role role-a: kept \(it holds inline policies certrole did not write: team\)/);
    assert.deepEqual(Object.keys(aws.emulator.state.roles["role-a"].policies), ["team"]);
    assert.equal(aws.emulator.state.roles["role-a"].policies.team, extra);
  } finally {
    await aws.close();
  }
});

Deno.test("setup refuses to take over a role it did not create; --adopt takes it over", async () => {
  const aws = await account();
  try {
    createRole(aws.emulator.state, { roleName: "legacy", assumeRolePolicyDocument: TRUST_EC2 }, new Date());
    const refused = await aws.iam(setupArgs("legacy", "containerA"));
    assertRefused(refused, /role "legacy"/, /not created by certrole/, /--adopt/);
    assert.equal(aws.emulator.state.roles.legacy.assumeRolePolicyDocument, TRUST_EC2);
    assert.deepEqual(counts(aws.emulator), { roles: 1, anchors: 0, profiles: 0 }, "nothing was made");

    const adopted = await aws.iam([...setupArgs("legacy", "containerA"), "--adopt"]);
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.match(adopted.stdout, /✓ role legacy .*: adopted/);
    const trust = JSON.parse(aws.emulator.state.roles.legacy.assumeRolePolicyDocument);
    assert.equal(trust.Statement[0].Principal.Service, "rolesanywhere.amazonaws.com");
    const tags = await aws.aws(["iam", "list-role-tags", "--role-name", "legacy"]);
    assert.deepEqual(tags.Tags, [
      { Key: "certrole:managed-by", Value: "certrole" },
      { Key: "certrole:policy", Value: "permissions" },
    ]);
  } finally {
    await aws.close();
  }
});

Deno.test("setup refuses to replace the CA of a trust anchor it did not create", async () => {
  const aws = await account();
  try {
    const otherPem = await Deno.readTextFile(otherCa.cert);
    const id = createTrustAnchor(aws.emulator.state, {
      name: "myPrivateCA",
      enabled: true,
      source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: otherPem } },
    }, new Date()).trustAnchorId;
    const refused = await aws.iam(setupArgs("role-a", "containerA"));
    assertRefused(refused, /trust anchor "myPrivateCA"/, /another CA/, /--trust-anchor-name/, /--adopt/);
    assert.equal(aws.emulator.state.trustAnchors[id].source.sourceData.x509CertificateData, otherPem);
    assert.deepEqual(counts(aws.emulator), { roles: 0, anchors: 1, profiles: 0 }, "nothing was made");

    const named = await aws.iam([...setupArgs("role-a", "containerA"), "--trust-anchor-name", "team-ca"]);
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, /✓ trust anchor team-ca: created/);
    assert.equal(aws.emulator.state.trustAnchors[id].source.sourceData.x509CertificateData, otherPem);
  } finally {
    await aws.close();
  }
});

Deno.test("setup refuses to take over a profile it did not create, or one it made for another role", async () => {
  const aws = await account();
  try {
    const id = createProfile(aws.emulator.state, {
      name: "role-a",
      roleArns: ["arn:aws:iam::123456789012:role/someone-else"],
      durationSeconds: 7200,
    }, new Date()).profileId;
    const refused = await aws.iam(setupArgs("role-a", "containerA"));
    assertRefused(refused, /profile "role-a"/, /not created by certrole/, /--profile-name/, /--adopt/);
    const profile = aws.emulator.state.profiles[id];
    assert.deepEqual(profile.roleArns, ["arn:aws:iam::123456789012:role/someone-else"]);
    assert.equal(profile.durationSeconds, 7200);
    assert.equal(profile.enabled, false);
    assert.deepEqual(counts(aws.emulator), { roles: 0, anchors: 0, profiles: 1 }, "nothing was made");

    const x = await aws.iam(setupArgs("role-x", "containerA"));
    assert.equal(x.code, 0, x.stderr);
    const y = await aws.iam([...setupArgs("role-y", "containerB"), "--profile-name", "role-x", "--adopt"]);
    assertRefused(y, /profile "role-x"/, /certrole made for role "role-x"/, /--profile-name/);
    assert.equal(aws.emulator.state.roles["role-y"], undefined);
  } finally {
    await aws.close();
  }
});

Deno.test("setup reuses a trust anchor that already holds the CA, and cleanup keeps it", async () => {
  const aws = await account();
  try {
    // The same certificate written differently: other line length, CRLF, text around it.
    const base64 = (await Deno.readTextFile(ca.cert)).replace(/-----[A-Z ]+-----|\s/g, "");
    const rewrapped = `subject=/C=US/O=Example/CN=myPrivateCA\r\n-----BEGIN CERTIFICATE-----\r\n${
      base64.match(/.{1,76}/g)!.join("\r\n")
    }\r\n-----END CERTIFICATE-----\r\n`;
    const anchor = createTrustAnchor(aws.emulator.state, {
      name: "corporate-root",
      enabled: true,
      source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: rewrapped } },
    }, new Date());
    aws.emulator.state.trustAnchors[anchor.trustAnchorId].enabled = false;
    const disabled = await aws.iam(setupArgs("role-a", "containerA"));
    assertRefused(disabled, /trust anchor "corporate-root"/, /holds this CA but is disabled/, /--adopt/);
    assert.deepEqual(counts(aws.emulator), { roles: 0, anchors: 1, profiles: 0 }, "nothing was made");
    aws.emulator.state.trustAnchors[anchor.trustAnchorId].enabled = true;

    const setup = await aws.iam([...setupArgs("role-a", "containerA"), "--json"]);
    assert.equal(setup.code, 0, setup.stderr);
    assert.equal(JSON.parse(setup.stdout).trustAnchorArn, anchor.trustAnchorArn);
    assert.equal(counts(aws.emulator).anchors, 1, "no second trust anchor for the same CA");
    const tags = await aws.aws(["rolesanywhere", "list-tags-for-resource", "--resource-arn", anchor.trustAnchorArn]);
    assert.deepEqual(tags.tags, [], "an anchor certrole did not make is used as it is, not tagged");
    assert.equal(
      aws.emulator.state.trustAnchors[anchor.trustAnchorId].source.sourceData.x509CertificateData,
      rewrapped,
    );

    const credentials = await certrole(["credential-process", "--no-cache"], {
      env: {
        ROLESANYWHERE_TRUST_ANCHOR_ARN: anchor.trustAnchorArn,
        ROLESANYWHERE_PROFILE_ARN: JSON.parse(setup.stdout).profileArn,
        ROLESANYWHERE_ROLE_ARN: JSON.parse(setup.stdout).roleArn,
        ROLESANYWHERE_ENDPOINT: aws.emulator.url,
        ROLESANYWHERE_CERT_LOCATION: leafA.cert,
        ROLESANYWHERE_KEY_LOCATION: leafA.key,
        ROLESANYWHERE_KEY_PASSPHRASE: leafA.passphrase!,
      },
    });
    assert.equal(credentials.code, 0, credentials.stderr);

    const cleanup = await aws.iam(["cleanup", "--role-name", "role-a", "--ca", ca.cert]);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    assert.match(cleanup.stdout, /✓ trust anchor corporate-root: kept \(not created by certrole\)/);
    assert.ok(aws.emulator.state.trustAnchors[anchor.trustAnchorId]);
    assert.deepEqual(counts(aws.emulator), { roles: 0, anchors: 1, profiles: 0 });
  } finally {
    await aws.close();
  }
});

Deno.test("what setup creates carries the certrole tags", async () => {
  const aws = await account();
  try {
    const setup = await aws.iam([...setupArgs("role-a", "containerA"), "--json"]);
    assert.equal(setup.code, 0, setup.stderr);
    const { trustAnchorArn, profileArn } = JSON.parse(setup.stdout);
    const role = await aws.aws(["iam", "get-role", "--role-name", "role-a"]);
    assert.deepEqual((role.Role as { Tags: unknown }).Tags, [
      { Key: "certrole:managed-by", Value: "certrole" },
      { Key: "certrole:policy", Value: "permissions" },
    ]);
    const anchorTags = await aws.aws(["rolesanywhere", "list-tags-for-resource", "--resource-arn", trustAnchorArn]);
    assert.deepEqual(anchorTags.tags, [
      { key: "certrole:managed-by", value: "certrole" },
      { key: "certrole:role/role-a", value: "" },
    ]);
    const profileTags = await aws.aws(["rolesanywhere", "list-tags-for-resource", "--resource-arn", profileArn]);
    assert.deepEqual(profileTags.tags, [
      { key: "certrole:managed-by", value: "certrole" },
      { key: "certrole:role", value: "role-a" },
    ]);
    const help = await certrole(["iam", "setup", "--help"]);
    assert.match(help.stdout, /certrole:managed-by/);
    assert.match(help.stdout, /--adopt/);
  } finally {
    await aws.close();
  }
});
