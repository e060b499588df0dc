/**
 * Under `certrole exec`, the AWS CLI v2 and boto3 find AWS_CONFIG_FILE with a working profile:
 * the preflight primed the cache (one CreateSession in all), and their signed requests pass the
 * emulator's checks. A non-default profile is selected for the command through AWS_PROFILE.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole exec clients ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

Deno.test("aws s3 ls, sts get-caller-identity and boto3 run under exec with one CreateSession", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  walkthrough.emulator.state.buckets["exec-bucket"] = {
    name: "exec-bucket",
    creationDate: "2024-01-02T03:04:05.000Z",
    owner: "t",
  };
  const env = { ...sessionEnv(walkthrough, leaf), HOME: dir };
  try {
    const ls = await certrole(["exec", "--", "/usr/bin/aws", "s3", "ls", "--endpoint-url", walkthrough.emulator.url], {
      env,
    });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /exec-bucket/);
    const script = "import boto3, os, sys; print(os.environ['AWS_CONFIG_FILE']); " +
      "print(boto3.client('sts', endpoint_url=sys.argv[1]).get_caller_identity()['Arn'])";
    const boto = await certrole(["exec", "--", "python3", "-c", script, walkthrough.emulator.url], { env });
    assert.equal(boto.code, 0, boto.stderr);
    const [configPath, arn] = boto.stdout.trim().split("\n");
    assert.match(configPath, /\/aws-config-[0-9a-f]{16}$/);
    assert.equal((await Deno.stat(configPath)).mode! & 0o777, 0o600);
    assert.match(arn, /assumed-role\/bucket-lister\//);
    assert.equal(walkthrough.emulator.state.sessionsIssued, 1, "preflight credentials were reused through the cache");
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("ROLESANYWHERE_AWS_PROFILE writes a named profile and selects it with AWS_PROFILE", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const env = { ...sessionEnv(walkthrough, leaf), HOME: dir, ROLESANYWHERE_AWS_PROFILE: "certificate" };
    const result = await certrole([
      "exec",
      "--",
      "sh",
      "-c",
      'echo "$AWS_PROFILE"; /usr/bin/aws sts get-caller-identity --endpoint-url "$1" --query Arn --output text',
      "sh",
      walkthrough.emulator.url,
    ], { env });
    assert.equal(result.code, 0, result.stderr);
    const [profile, arn] = result.stdout.trim().split("\n");
    assert.equal(profile, "certificate");
    assert.match(arn, /assumed-role\/bucket-lister\//);
  } finally {
    await walkthrough.emulator.close();
  }
});
