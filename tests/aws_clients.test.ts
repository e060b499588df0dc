/**
 * The real AWS CLI v2 and boto3 obtain credentials through a credential_process line that runs
 * certrole, then sign requests with them that the emulator verifies (SigV4 with the issued
 * secret, the issued session token): the credentials work, not just parse.
 */
import assert from "node:assert/strict";
import { startWalkthrough, type Walkthrough } from "./support/emulator.ts";
import { issueLeaf, type Leaf, makeCa } from "./support/pki.ts";
import { AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { run, tempDir } from "./support/run.ts";

/** The walkthrough's credential_process profile, in a folder and file whose names contain spaces. */
function clientEnv(dir: string, walkthrough: Walkthrough, leaf: Leaf, args: string[]) {
  return credentialProcessEnv(dir, "aws config", leaf, walkthrough, walkthrough.emulator.url, { args });
}

const dir = await tempDir("certrole clients ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

Deno.test("AWS CLI v2: s3 ls and sts get-caller-identity through credential_process", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  walkthrough.emulator.state.buckets["walkthrough-bucket"] = {
    name: "walkthrough-bucket",
    creationDate: "2024-01-02T03:04:05.000Z",
    owner: "test",
  };
  try {
    const env = await clientEnv(dir, walkthrough, leaf, ["--cache-dir", `${dir}/cache`]);
    const ls = await run(AWS, ["s3", "ls", "--endpoint-url", walkthrough.emulator.url], { env });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /2024-01-02 \d\d:04:05 walkthrough-bucket/);
    const identity = await run(AWS, [
      "sts",
      "get-caller-identity",
      "--endpoint-url",
      walkthrough.emulator.url,
      "--output",
      "json",
    ], { env });
    assert.equal(identity.code, 0, identity.stderr);
    const arn = JSON.parse(identity.stdout).Arn;
    assert.match(arn, /^arn:aws:sts::123456789012:assumed-role\/bucket-lister\/[0-9a-f]+$/);
    const sessions = Object.values(walkthrough.emulator.state.sessions);
    assert.equal(sessions.length, 1, "the second command reused the cached credentials");
    assert.ok(arn.endsWith(`/${sessions[0].roleSessionName}`));
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("boto3: list_buckets and get_caller_identity through credential_process", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  walkthrough.emulator.state.buckets["boto-bucket"] = {
    name: "boto-bucket",
    creationDate: "2024-01-02T03:04:05.000Z",
    owner: "test",
  };
  try {
    const env = await clientEnv(dir, walkthrough, leaf, ["--no-cache"]);
    const script = [
      "import boto3, json, sys",
      "session = boto3.Session()",
      "s3 = session.client('s3', endpoint_url=sys.argv[1])",
      "sts = session.client('sts', endpoint_url=sys.argv[1])",
      "creds = session.get_credentials().get_frozen_credentials()",
      "print(json.dumps({'buckets': [b['Name'] for b in s3.list_buckets()['Buckets']],",
      "  'arn': sts.get_caller_identity()['Arn'], 'key': creds.access_key, 'token': creds.token}))",
    ].join("\n");
    const result = await run("python3", ["-c", script, walkthrough.emulator.url], { env });
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout);
    assert.deepEqual(output.buckets, ["boto-bucket"]);
    const issued = walkthrough.emulator.state.sessions[output.key];
    assert.ok(issued, "boto3 signed with an access key the emulator issued");
    assert.equal(output.token, issued.sessionToken);
    assert.match(output.arn, /assumed-role\/bucket-lister\//);
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("a certificate whose CN the trust policy does not allow: the AWS CLI reports AccessDeniedException", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const other = await issueLeaf(ca, "other-cn", { cn: "someoneElse" });
  try {
    const env = await clientEnv(dir, walkthrough, other, ["--no-cache"]);
    const ls = await run(AWS, ["s3", "ls", "--endpoint-url", walkthrough.emulator.url], { env });
    assert.notEqual(ls.code, 0);
    assert.match(ls.stderr, /AccessDeniedException: Unable to assume role .*bucket-lister/);
  } finally {
    await walkthrough.emulator.close();
  }
});
