/**
 * The walkthrough end to end with `--key-type ml-dsa-65`: `certrole pki` makes an ML-DSA-65 CA
 * and container certificates (encrypted keys), `certrole iam setup` registers the CA with
 * `certrole emulator` running as its own process, and then, with certificate credentials only:
 * the AWS CLI under `certrole exec` lists the buckets and is refused ec2 describe-instances
 * (UnauthorizedOperation); boto3 through credential_process does the same; a certificate with
 * another CN is refused (AccessDeniedException). credential-process caches ML-DSA credentials
 * like any others (one CreateSession, then cache hits), and --debug shows the AWS4-X509-MLDSA
 * string to sign and the key's form without printing a secret.
 */
import assert from "node:assert/strict";
import { AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { spawnEmulator } from "./support/emulator.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const BOTO3 = `
import boto3, botocore.exceptions, json, sys
endpoint = sys.argv[1]
result = {}
try:
    result["buckets"] = [b["Name"] for b in boto3.client("s3", endpoint_url=endpoint).list_buckets()["Buckets"]]
    try:
        boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1").describe_instances()
    except botocore.exceptions.ClientError as error:
        result["ec2"] = error.response["Error"]["Code"]
except botocore.exceptions.CredentialRetrievalError as error:
    result["credentials_error"] = str(error)
print(json.dumps(result))
`;

Deno.test("ML-DSA-65 walkthrough: pki, iam setup, AWS CLI under exec, boto3, cache and debug", async () => {
  const dir = await tempDir("certrole ml-dsa walkthrough ");
  const secrets = { CERTROLE_CA_PASSPHRASE: crypto.randomUUID(), ROLESANYWHERE_KEY_PASSPHRASE: crypto.randomUUID() };
  const pki = async (args: string[]) => {
    const result = await certrole(["pki", ...args], { cwd: dir, env: secrets });
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  assert.match(
    await pki(["init-ca", "--cn", "myPrivateCA", "--key-type", "ml-dsa-65"]),
    /ML-DSA-65 private key, encrypted/,
  );
  assert.match(
    await pki(["issue", "--cn", "myContainer", "--key-type", "ml-dsa-65"]),
    /ML-DSA-65 private key, encrypted/,
  );
  await pki([
    "issue",
    "--cn",
    "someoneElse",
    "--key-type",
    "ml-dsa-65",
    "--cert-out",
    "other-cert.pem",
    "--key-out",
    "other-key.pem",
  ]);

  const emulator = await spawnEmulator(dir);
  try {
    const setup = await certrole([
      "iam",
      "setup",
      "--role-name",
      "bucket-lister",
      "--cn",
      "myContainer",
      "--ca",
      `${dir}/ca-cert.pem`,
      "--allow",
      "s3:ListAllMyBuckets",
      "--json",
    ], { env: { ...emulator.exports, HOME: dir } });
    assert.equal(setup.code, 0, setup.stderr);
    const arns = JSON.parse(setup.stdout);
    const admin = { ...emulator.exports, HOME: dir, AWS_CONFIG_FILE: `${dir}/none`, AWS_PAGER: "" };
    for (const bucket of ["pq-logs", "pq-assets"]) {
      const made = await run(AWS, ["s3", "mb", `s3://${bucket}`, "--endpoint-url", emulator.url], { env: admin });
      assert.equal(made.code, 0, made.stderr);
    }
    const session = {
      HOME: dir,
      ROLESANYWHERE_CERT_LOCATION: `${dir}/cert.pem`,
      ROLESANYWHERE_KEY_LOCATION: `${dir}/key.pem`,
      ROLESANYWHERE_KEY_PASSPHRASE: secrets.ROLESANYWHERE_KEY_PASSPHRASE,
      ROLESANYWHERE_TRUST_ANCHOR_ARN: arns.trustAnchorArn,
      ROLESANYWHERE_PROFILE_ARN: arns.profileArn,
      ROLESANYWHERE_ROLE_ARN: arns.roleArn,
      ROLESANYWHERE_ENDPOINT: emulator.url,
      ROLESANYWHERE_CACHE_DIR: `${dir}/cache`,
    };

    const cold = await certrole(["credential-process", "--debug"], { env: session });
    assert.equal(cold.code, 0, cold.stderr);
    const credentials = JSON.parse(cold.stdout);
    assert.match(cold.stderr, /key ML-DSA-65 \(PKCS#8 seed form\) \(decrypted in memory\), signs AWS4-X509-MLDSA/);
    assert.match(cold.stderr, /string to sign:\ncertrole debug: AWS4-X509-MLDSA\n/);
    assert.match(cold.stderr, /cache miss/);
    for (
      const secret of [credentials.SecretAccessKey, credentials.SessionToken, secrets.ROLESANYWHERE_KEY_PASSPHRASE]
    ) {
      assert.ok(!cold.stderr.includes(secret), "a secret in the debug output");
    }
    const cached = await certrole(["credential-process", "--debug"], { env: session });
    assert.equal(cached.code, 0, cached.stderr);
    assert.match(cached.stderr, /cache hit/);
    assert.equal(JSON.parse(cached.stdout).AccessKeyId, credentials.AccessKeyId);

    const ls = await certrole(["exec", "--", AWS, "s3", "ls", "--endpoint-url", emulator.url], { env: session });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, / pq-logs\n/);
    assert.match(ls.stdout, / pq-assets\n/);
    const ec2 = await certrole(
      ["exec", "--", AWS, "ec2", "describe-instances", "--region", "us-east-1", "--endpoint-url", emulator.url],
      { env: session },
    );
    assert.notEqual(ec2.code, 0);
    assert.match(ec2.stderr, /UnauthorizedOperation/);

    const leaf = { cert: `${dir}/cert.pem`, key: `${dir}/key.pem`, passphrase: secrets.ROLESANYWHERE_KEY_PASSPHRASE };
    const botoEnv = await credentialProcessEnv(dir, "container", leaf, arns, emulator.url);
    const boto = await run("python3", ["-c", BOTO3, emulator.url], { env: botoEnv });
    assert.equal(boto.code, 0, boto.stderr);
    assert.deepEqual(JSON.parse(boto.stdout), { buckets: ["pq-logs", "pq-assets"], ec2: "UnauthorizedOperation" });

    const stranger = { ...leaf, cert: `${dir}/other-cert.pem`, key: `${dir}/other-key.pem` };
    const strangerEnv = await credentialProcessEnv(dir, "stranger", stranger, arns, emulator.url);
    const refused = await run("python3", ["-c", BOTO3, emulator.url], { env: strangerEnv });
    assert.equal(refused.code, 0, refused.stderr);
    assert.match(JSON.parse(refused.stdout).credentials_error, /AccessDeniedException/);
  } finally {
    const stopped = await emulator.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});
