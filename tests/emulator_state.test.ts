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
import { adminEnv, AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { spawnEmulator } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole state ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "container");

function admin(exports: Record<string, string>) {
  return adminEnv(dir, { accessKeyId: exports.AWS_ACCESS_KEY_ID, secretAccessKey: exports.AWS_SECRET_ACCESS_KEY });
}

async function aws(url: string, env: Record<string, string>, ...args: string[]) {
  const result = await run(AWS, [...args, "--endpoint-url", url], { env, cwd: dir });
  assert.equal(result.code, 0, `aws ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.startsWith("{") ? JSON.parse(result.stdout) : result.stdout;
}

Deno.test("state survives a restart: resources, the generated admin key and issued credentials", async () => {
  const state = `${dir}/state`;
  await Deno.writeTextFile(`${dir}/trust.json`, JSON.stringify(trustPolicy({ cn: "myContainer" })));
  await Deno.writeTextFile(`${dir}/policy.json`, JSON.stringify(permissionsPolicy({ allow: ["s3:ListAllMyBuckets"] })));

  const first = await spawnEmulator(dir, ["--state", state]);
  let arns;
  let cacheEnv: Record<string, string>;
  try {
    const env = admin(first.exports);
    const role = await aws(
      first.url,
      env,
      "iam",
      "create-role",
      "--role-name",
      "bucket-lister",
      "--assume-role-policy-document",
      "file://trust.json",
    );
    await aws(
      first.url,
      env,
      "iam",
      "put-role-policy",
      "--role-name",
      "bucket-lister",
      "--policy-name",
      "list",
      "--policy-document",
      "file://policy.json",
    );
    const anchor = await aws(
      first.url,
      env,
      "rolesanywhere",
      "create-trust-anchor",
      "--enabled",
      "--name",
      "myPrivateCA",
      "--source",
      `sourceData={x509CertificateData=${await Deno.readTextFile(ca.cert)}},sourceType=CERTIFICATE_BUNDLE`,
    );
    const profile = await aws(
      first.url,
      env,
      "rolesanywhere",
      "create-profile",
      "--enabled",
      "--name",
      "bucket-lister",
      "--role-arns",
      role.Role.Arn,
    );
    await aws(first.url, env, "s3", "mb", "s3://kept-bucket");
    arns = {
      trustAnchorArn: anchor.trustAnchor.trustAnchorArn,
      profileArn: profile.profile.profileArn,
      roleArn: role.Role.Arn,
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
    const env = admin(second.exports);
    const roles = await aws(second.url, env, "iam", "list-roles");
    assert.deepEqual(roles.Roles.map((role: { Arn: string }) => role.Arn), [arns.roleArn]);
    const policy = await aws(
      second.url,
      env,
      "iam",
      "get-role-policy",
      "--role-name",
      "bucket-lister",
      "--policy-name",
      "list",
    );
    assert.equal(policy.PolicyDocument.Statement[0].Action, "s3:ListAllMyBuckets");
    const profiles = await aws(second.url, env, "rolesanywhere", "list-profiles");
    assert.equal(profiles.profiles[0].profileArn, arns.profileArn);
    const anchors = await aws(second.url, env, "rolesanywhere", "list-trust-anchors");
    assert.equal(anchors.trustAnchors[0].trustAnchorArn, arns.trustAnchorArn);
    // With the profile disabled no new CreateSession can succeed: the credentials issued
    // before the restart (from certrole's cache) are what still sign.
    await aws(second.url, env, "rolesanywhere", "disable-profile", "--profile-id", arns.profileArn.split("/")[1]);
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
  await aws(
    emulator.url,
    adminEnv(dir, { accessKeyId: "AKIAGIVENADMINKEY001", secretAccessKey: secret }),
    "s3",
    "mb",
    "s3://some-bucket",
  );
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
