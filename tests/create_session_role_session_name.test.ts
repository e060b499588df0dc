/**
 * A profile's acceptRoleSessionName decides whether CreateSession takes the caller's session
 * name: without it a roleSessionName is refused with the service's AccessDeniedException "Not
 * authorized to set roleSessionName." (and certrole says so); once boto3 turns it on through
 * UpdateProfile, the name is the session's and the AWS CLI sees it in the assumed-role ARN.
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

    const script = [
      "import boto3, json, sys",
      "ra = boto3.client('rolesanywhere', endpoint_url=sys.argv[1])",
      "ra.update_profile(profileId=sys.argv[2], acceptRoleSessionName=True)",
      "print(json.dumps(ra.get_profile(profileId=sys.argv[2])['profile']['acceptRoleSessionName']))",
    ].join("\n");
    const updated = await run("python3", ["-c", script, walkthrough.emulator.url, walkthrough.profileId], {
      env: adminEnv(dir, walkthrough.emulator.admin),
    });
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout.trim(), "true");

    const named = await createSession(walkthrough, "worker-1");
    assert.equal(named.status, 201, JSON.stringify(named.body));
    assert.equal(
      named.body.credentialSet[0].assumedRoleUser.arn,
      "arn:aws:sts::123456789012:assumed-role/bucket-lister/worker-1",
    );
    const env = await credentialProcessEnv(dir, "named", leaf, walkthrough, walkthrough.emulator.url, {
      args: ["--no-cache", "--role-session-name", "worker-2"],
    });
    const identity = await run(AWS, [
      "sts",
      "get-caller-identity",
      "--endpoint-url",
      walkthrough.emulator.url,
      "--output",
      "json",
    ], { env });
    assert.equal(identity.code, 0, identity.stderr);
    assert.equal(JSON.parse(identity.stdout).Arn, "arn:aws:sts::123456789012:assumed-role/bucket-lister/worker-2");
  } finally {
    await walkthrough.emulator.close();
  }
});
