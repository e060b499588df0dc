/**
 * A profile's acceptRoleSessionName decides whether CreateSession takes the caller's session
 * name: without it a roleSessionName is refused with the service's AccessDeniedException "Not
 * authorized to set roleSessionName." (and certrole says so); once the AWS CLI turns it on through
 * UpdateProfile, the name is the session's and the AWS CLI sees it in the assumed-role ARN.
 *
 * Debian's AWS CLI (2.9) predates the field, and no newer CLI, SDK model or boto3 is installable
 * here: the test gives the CLI its own Roles Anywhere model plus the one member, as AWS's newer
 * model has it (`aws configure add-model`), so the CLI serializes, signs and parses the field.
 */
import assert from "node:assert/strict";
import { adminEnv, AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { signedCreateSession } from "./support/create_session.ts";
import { sessionEnv, startWalkthrough, type Walkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole session name ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf", { passphrase: null });

/** The installed AWS CLI's Roles Anywhere model with acceptRoleSessionName (a boolean) where AWS's newer model has it. */
async function modelWithSessionNames(): Promise<string> {
  const found = await run("/usr/bin/python3", ["-c", "import awscli, os; print(os.path.dirname(awscli.__file__))"]);
  assert.equal(found.code, 0, found.stderr);
  const path = `${found.stdout.trim()}/botocore/data/rolesanywhere/2018-05-10/service-2.json`;
  const model = JSON.parse(await Deno.readTextFile(path));
  model.shapes.SessionNamesAccepted = { type: "boolean" };
  for (const shape of ["CreateProfileRequest", "UpdateProfileRequest", "ProfileDetail"]) {
    model.shapes[shape].members.acceptRoleSessionName = { shape: "SessionNamesAccepted" };
  }
  await Deno.writeTextFile(`${dir}/rolesanywhere.json`, JSON.stringify(model));
  return `file://${dir}/rolesanywhere.json`;
}

const createSession = (walkthrough: Walkthrough, roleSessionName?: string) =>
  signedCreateSession(walkthrough, leaf, { roleSessionName });

Deno.test("acceptRoleSessionName: refused by default, the caller's name once the profile accepts it", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const refused = await createSession(walkthrough, "worker-1");
    assert.equal(refused.status, 403);
    assert.equal(refused.errorType, "AccessDeniedException");
    assert.equal(refused.body.message, "Not authorized to set roleSessionName.");
    const viaCertrole = await certrole(["credential-process", "--no-cache", "--role-session-name", "worker-1"], {
      env: sessionEnv(walkthrough, leaf),
    });
    assert.equal(viaCertrole.code, 1);
    assert.match(viaCertrole.stderr, /Not authorized to set roleSessionName/);
    const unnamed = await createSession(walkthrough);
    assert.equal(unnamed.status, 201, JSON.stringify(unnamed.body));
    assert.match(unnamed.body.credentialSet[0].assumedRoleUser.arn, /assumed-role\/bucket-lister\/[0-9a-f]{2,}$/);

    const env = adminEnv(dir, walkthrough.emulator.admin);
    const added = await run(AWS, ["configure", "add-model", "--service-model", await modelWithSessionNames()], { env });
    assert.equal(added.code, 0, added.stderr);
    const profileCall = (operation: string, ...args: string[]) =>
      run(AWS, [
        "rolesanywhere",
        operation,
        "--profile-id",
        walkthrough.profileId,
        ...args,
        "--endpoint-url",
        walkthrough.emulator.url,
        "--output",
        "json",
      ], { env });
    const updated = await profileCall("update-profile", "--accept-role-session-name");
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(JSON.parse(updated.stdout).profile.acceptRoleSessionName, true);
    const read = await profileCall("get-profile");
    assert.equal(read.code, 0, read.stderr);
    assert.equal(JSON.parse(read.stdout).profile.acceptRoleSessionName, true);

    const named = await createSession(walkthrough, "worker-1");
    assert.equal(named.status, 201, JSON.stringify(named.body));
    assert.equal(
      named.body.credentialSet[0].assumedRoleUser.arn,
      "arn:aws:sts::123456789012:assumed-role/bucket-lister/worker-1",
    );
    const namedEnv = await credentialProcessEnv(dir, "named", leaf, walkthrough, walkthrough.emulator.url, {
      args: ["--no-cache", "--role-session-name", "worker-2"],
    });
    const identity = await run(AWS, [
      "sts",
      "get-caller-identity",
      "--endpoint-url",
      walkthrough.emulator.url,
      "--output",
      "json",
    ], { env: namedEnv });
    assert.equal(identity.code, 0, identity.stderr);
    assert.equal(JSON.parse(identity.stdout).Arn, "arn:aws:sts::123456789012:assumed-role/bucket-lister/worker-2");
  } finally {
    await walkthrough.emulator.close();
  }
});
