/**
 * A permissions statement without Resource (or NotResource) does not allow everything: the AWS
 * CLI's put-role-policy gets IAM's MalformedPolicyDocument "Policy statement must contain
 * resources.", a profile's session policy without one is a ValidationException, and a stored
 * policy without one (a state saved before the check) allows a role session nothing. Trust
 * policies, which have no Resource, still work.
 */
import assert from "node:assert/strict";
import { createProfile } from "../cli/emulator/resources.ts";
import { adminEnv, AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole resource required ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf", { passphrase: null });
const NO_RESOURCE = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*" }] });

Deno.test("permissions and session policies need Resource; one stored without it allows nothing", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const { emulator } = walkthrough;
  try {
    const put = await run(AWS, [
      "iam",
      "put-role-policy",
      "--role-name",
      "bucket-lister",
      "--policy-name",
      "everything",
      "--policy-document",
      NO_RESOURCE,
      "--endpoint-url",
      emulator.url,
    ], { env: adminEnv(dir, emulator.admin) });
    assert.notEqual(put.code, 0);
    assert.match(put.stderr, /\(MalformedPolicyDocument\).*: Policy statement must contain resources\./);
    assert.equal(emulator.state.roles["bucket-lister"].policies.everything, undefined);

    assert.throws(
      () =>
        createProfile(
          emulator.state,
          { name: "p", roleArns: [walkthrough.roleArn], sessionPolicy: NO_RESOURCE },
          new Date(),
        ),
      (error: Error & { code?: string }) =>
        error.code === "ValidationException" && /Policy statement must contain resources\./.test(error.message),
    );

    // What a state file from before the check may hold: the role's only policy lacks Resource.
    emulator.state.roles["bucket-lister"].policies = { everything: NO_RESOURCE };
    const env = await credentialProcessEnv(dir, "session", leaf, walkthrough, emulator.url);
    const ls = await run(AWS, ["s3", "ls", "--endpoint-url", emulator.url], { env });
    assert.notEqual(ls.code, 0, "credentials were issued (the trust policy has no Resource) but allow nothing");
    assert.match(ls.stderr, /AccessDenied/);
    assert.doesNotMatch(ls.stderr, /credential_process|Unable to assume role/);
  } finally {
    await emulator.close();
  }
});
