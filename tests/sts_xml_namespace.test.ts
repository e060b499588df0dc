/**
 * The emulator's STS answers carry AWS STS's XML namespace (https://sts.amazonaws.com/doc/2011-06-15/,
 * the `xmlNamespace` of botocore's STS model), errors included: before, STS errors carried
 * IAM's. boto3 makes the calls; a namespace-aware parser (Python's ElementTree) reads the raw
 * bodies botocore received, and botocore still parses the answer and the error codes.
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { run } from "./support/run.ts";

const SCRIPT = `
import boto3, botocore, json, sys
import xml.etree.ElementTree as ET
roots = []
def capture(response_dict, **_):
    roots.append(ET.fromstring(response_dict["body"]).tag)
def client(secret):
    sts = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1",
                       aws_access_key_id=sys.argv[2], aws_secret_access_key=secret)
    sts.meta.events.register("before-parse.sts.*", capture)
    return sts
result = {"arn": client(sys.argv[3]).get_caller_identity()["Arn"], "errors": []}
for call in (lambda: client("wrong").get_caller_identity(), lambda: client(sys.argv[3]).get_session_token()):
    try:
        call()
    except botocore.exceptions.ClientError as error:
        result["errors"].append(error.response["Error"]["Code"])
result["roots"] = roots
print(json.dumps(result))
`;

Deno.test("STS answers and errors carry the STS namespace, and boto3 parses them", async () => {
  const emulator = await startEmulator();
  try {
    const { code, stdout, stderr } = await run("python3", [
      "-c",
      SCRIPT,
      emulator.url,
      emulator.admin.accessKeyId,
      emulator.admin.secretAccessKey,
    ], { env: { AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" } });
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.match(result.arn, /^arn:aws:iam::\d{12}:/);
    assert.deepEqual(result.errors, ["SignatureDoesNotMatch", "InvalidAction"]);
    const ns = "{https://sts.amazonaws.com/doc/2011-06-15/}";
    assert.deepEqual(result.roots, [`${ns}GetCallerIdentityResponse`, `${ns}ErrorResponse`, `${ns}ErrorResponse`]);
  } finally {
    await emulator.close();
  }
});
