/**
 * The walkthrough's data-plane calls with boto3 through credential_process → certrole: S3
 * ListBuckets answers the buckets, EC2 DescribeInstances raises UnauthorizedOperation, and a
 * certificate with another CN cannot get credentials (AccessDeniedException).
 */
import assert from "node:assert/strict";
import { credentialProcessEnv } from "./support/aws_cli.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { run, tempDir } from "./support/run.ts";

const SCRIPT = `
import boto3, botocore.exceptions, json, sys
endpoint = sys.argv[1]
session = boto3.Session()
result = {}
try:
    result["buckets"] = [b["Name"] for b in session.client("s3", endpoint_url=endpoint).list_buckets()["Buckets"]]
    try:
        session.client("ec2", endpoint_url=endpoint, region_name="us-east-1").describe_instances()
        result["ec2"] = "allowed"
    except botocore.exceptions.ClientError as error:
        result["ec2"] = error.response["Error"]["Code"]
        result["ec2_status"] = error.response["ResponseMetadata"]["HTTPStatusCode"]
except botocore.exceptions.CredentialRetrievalError as error:
    result["credentials_error"] = str(error)
print(json.dumps(result))
`;

Deno.test("boto3: list_buckets allowed, describe_instances UnauthorizedOperation, another CN refused", async () => {
  const dir = await tempDir("certrole boto3 ");
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "container");
  const stranger = await issueLeaf(ca, "stranger", { cn: "someoneElse" });
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  for (const name of ["alpha-bucket", "beta-bucket"]) {
    walkthrough.emulator.state.buckets[name] = { name, creationDate: "2024-01-02T03:04:05.000Z", owner: "test" };
  }
  try {
    const env = await credentialProcessEnv(dir, "container", leaf, walkthrough, walkthrough.emulator.url);
    const result = await run("python3", ["-c", SCRIPT, walkthrough.emulator.url], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      buckets: ["alpha-bucket", "beta-bucket"],
      ec2: "UnauthorizedOperation",
      ec2_status: 403,
    });

    const strangerEnv = await credentialProcessEnv(dir, "stranger", stranger, walkthrough, walkthrough.emulator.url);
    const refused = await run("python3", ["-c", SCRIPT, walkthrough.emulator.url], { env: strangerEnv });
    assert.equal(refused.code, 0, refused.stderr);
    assert.match(JSON.parse(refused.stdout).credentials_error, /CreateSession failed: AccessDeniedException/);
  } finally {
    await walkthrough.emulator.close();
  }
});
