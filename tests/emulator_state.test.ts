/**
 * `certrole emulator --state DIR`: every change is saved (0600 file in a 0700 directory) and
 * reloaded at the next start, so a walkthrough spans processes: the role, trust anchor,
 * profile and buckets survive a restart, the generated admin key keeps working, and temporary
 * credentials issued before the restart are still honoured. Admin keys the user gave are never
 * written; a corrupt state file stops the start with a one-line error.
 */
import assert from "node:assert/strict";
import { STATE_FILE } from "../cli/emulator/state.ts";
import { permissionsPolicy, trustPolicy } from "../cli/iam/documents.ts";
import { AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { spawnEmulator } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, run, tempDir } from "./support/run.ts";
import { FORM, signedCall } from "./support/sigv4_client.ts";

const dir = await tempDir("certrole state ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "container");

/** The generated admin key the emulator printed. */
function adminKey(exports: Record<string, string>) {
  return { accessKeyId: exports.AWS_ACCESS_KEY_ID, secretAccessKey: exports.AWS_SECRET_ACCESS_KEY };
}

/**
 * The administrator's calls, signed by the AWS SDK's signer in this process: what is saved is the
 * point here, not the AWS CLI (which proves below that cached credentials outlive the restart).
 */
function adminCalls(url: string, exports: Record<string, string>) {
  const call = async (request: Parameters<typeof signedCall>[2]) => {
    const answer = await signedCall(url, adminKey(exports), request);
    assert.ok(
      answer.status < 300,
      `${request.service} ${request.method ?? "POST"} ${request.path ?? ""}: ${answer.text}`,
    );
    return answer.text;
  };
  const form = (fields: Record<string, string>) => new URLSearchParams({ ...fields, Version: "2010-05-08" }).toString();
  return {
    iam: (fields: Record<string, string>) => call({ service: "iam", headers: FORM, body: form(fields) }),
    rolesanywhere: async (method: string, path: string, body?: unknown) =>
      JSON.parse(
        await call({
          service: "rolesanywhere",
          method,
          path,
          headers: { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }) || "{}",
      ),
    s3: (method: string, path: string) => call({ service: "s3", method, path }),
  };
}

Deno.test("state survives a restart: resources, the generated admin key and issued credentials", async () => {
  const state = `${dir}/state`;
  const first = await spawnEmulator(dir, ["--state", state]);
  let arns;
  let cacheEnv: Record<string, string>;
  try {
    const admin = adminCalls(first.url, first.exports);
    const role = await admin.iam({
      Action: "CreateRole",
      RoleName: "bucket-lister",
      AssumeRolePolicyDocument: JSON.stringify(trustPolicy({ cn: "myContainer" })),
    });
    await admin.iam({
      Action: "PutRolePolicy",
      RoleName: "bucket-lister",
      PolicyName: "list",
      PolicyDocument: JSON.stringify(permissionsPolicy({ allow: ["s3:ListAllMyBuckets"] })),
    });
    const roleArn = role.match(/<Arn>([^<]+)<\/Arn>/)![1];
    const anchor = await admin.rolesanywhere("POST", "/trustanchors", {
      name: "myPrivateCA",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: await Deno.readTextFile(ca.cert) },
      },
    });
    const profile = await admin.rolesanywhere("POST", "/profiles", {
      name: "bucket-lister",
      enabled: true,
      roleArns: [roleArn],
    });
    await admin.s3("PUT", "/kept-bucket");
    arns = {
      trustAnchorArn: anchor.trustAnchor.trustAnchorArn,
      profileArn: profile.profile.profileArn,
      roleArn,
    };
    // Credentials issued now, kept in certrole's cache for after the restart.
    cacheEnv = await credentialProcessEnv(dir, "cached", leaf, arns, first.url);
    const config = await Deno.readTextFile(cacheEnv.AWS_CONFIG_FILE);
    await Deno.writeTextFile(cacheEnv.AWS_CONFIG_FILE, config.replace("--no-cache", `--cache-dir '${dir}/cache'`));
    const ls = await run(AWS, ["s3", "ls", "--endpoint-url", first.url], { env: cacheEnv });
    assert.equal(ls.code, 0, ls.stderr);
  } finally {
    assert.equal((await first.stop()).code, 0);
  }

  assert.equal((await Deno.stat(state)).mode! & 0o777, 0o700);
  assert.equal((await Deno.stat(`${state}/${STATE_FILE}`)).mode! & 0o777, 0o600);

  // Same port: the endpoint is part of what certrole's credential cache is keyed on.
  const second = await spawnEmulator(dir, ["--state", state, "--port", new URL(first.url).port]);
  try {
    assert.equal(second.exports.AWS_ACCESS_KEY_ID, first.exports.AWS_ACCESS_KEY_ID, "the generated admin key is kept");
    assert.equal(second.exports.AWS_SECRET_ACCESS_KEY, first.exports.AWS_SECRET_ACCESS_KEY);
    const admin = adminCalls(second.url, second.exports);
    const roles = await admin.iam({ Action: "ListRoles" });
    assert.deepEqual([...roles.matchAll(/<Arn>([^<]+)<\/Arn>/g)].map((match) => match[1]), [arns.roleArn]);
    const policy = await admin.iam({ Action: "GetRolePolicy", RoleName: "bucket-lister", PolicyName: "list" });
    const document = JSON.parse(decodeURIComponent(policy.match(/<PolicyDocument>([^<]+)<\/PolicyDocument>/)![1]));
    assert.equal(document.Statement[0].Action, "s3:ListAllMyBuckets");
    const profiles = await admin.rolesanywhere("GET", "/profiles");
    assert.equal(profiles.profiles[0].profileArn, arns.profileArn);
    const anchors = await admin.rolesanywhere("GET", "/trustanchors");
    assert.equal(anchors.trustAnchors[0].trustAnchorArn, arns.trustAnchorArn);
    // With the profile disabled no new CreateSession can succeed: the credentials issued
    // before the restart (from certrole's cache) are what still sign.
    await admin.rolesanywhere("POST", `/profile/${arns.profileArn.split("/")[1]}/disable`);
    assert.equal(second.url, first.url);
    const ls = await run(AWS, ["s3", "ls", "--endpoint-url", second.url], { env: cacheEnv! });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, / kept-bucket$/m);
  } finally {
    assert.equal((await second.stop()).code, 0);
  }
});

Deno.test("admin keys given in the environment are not written to the state", async () => {
  const state = `${dir}/given`;
  const secret = "given-secret-never-on-disk-0123456789";
  const emulator = await spawnEmulator(dir, ["--state", state], {
    CERTROLE_EMULATOR_ACCESS_KEY_ID: "AKIAGIVENADMINKEY001",
    CERTROLE_EMULATOR_SECRET_ACCESS_KEY: secret,
  });
  await adminCalls(emulator.url, {
    AWS_ACCESS_KEY_ID: "AKIAGIVENADMINKEY001",
    AWS_SECRET_ACCESS_KEY: secret,
  }).s3("PUT", "/some-bucket");
  assert.equal((await emulator.stop()).code, 0);
  const saved = await Deno.readTextFile(`${state}/${STATE_FILE}`);
  assert.ok(saved.includes("some-bucket"));
  assert.ok(!saved.includes(secret));
  assert.ok(!saved.includes("AKIAGIVENADMINKEY001"));
});

Deno.test("a corrupt state file: one-line error naming it, exit 1", async () => {
  const state = `${dir}/corrupt`;
  await Deno.mkdir(state);
  await Deno.writeTextFile(`${state}/${STATE_FILE}`, "{ not json");
  const result = await certrole(["emulator", "--port", "0", "--state", state]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /emulator state ".*emulator-state\.json" is corrupt: move it away to start fresh/);
  assert.equal(result.stderr.trim().split("\n").length, 1);
});

Deno.test("a state saved for another region refuses a different --region", async () => {
  const state = `${dir}/region`;
  const emulator = await spawnEmulator(dir, ["--state", state, "--region", "eu-west-1"]);
  assert.equal((await emulator.stop()).code, 0);
  const result = await certrole(["emulator", "--port", "0", "--state", state, "--region", "us-east-1"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /is for region eu-west-1, not us-east-1/);
});
