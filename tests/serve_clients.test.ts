/**
 * Real clients get credentials from `certrole serve` with no credential_process: boto3 (token
 * file), the AWS CLI v2 (token variable: Debian's 2.9.19 ignores the token file) and the AWS SDK
 * for JavaScript v3 under Node, each through the container provider and through IMDSv2, then list
 * buckets on the emulator, which verifies their signatures with the issued credentials. 200
 * concurrent clients asking while a refresh is due and running all get credentials, and the
 * refresh costs one CreateSession (the refresh is single-flight).
 */
import assert from "node:assert/strict";
import { AWS } from "./support/aws_cli.ts";
import { issuedSessions, sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { runNode } from "./support/node_sdk.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { run, tempDir } from "./support/run.ts";
import { spawnServe } from "./support/serve.ts";

const dir = await tempDir("certrole-serve-clients-");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

/** A client's environment: nothing but what serve printed (container) or its IMDS endpoint. */
function clientEnv(exports: Record<string, string>, via: "container" | "imds" | "container-token") {
  const base: Record<string, string> = {
    HOME: dir,
    AWS_CONFIG_FILE: `${dir}/no-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_REGION: "us-east-1",
    AWS_PAGER: "",
  };
  if (via === "imds") return { ...base, AWS_EC2_METADATA_SERVICE_ENDPOINT: exports.AWS_EC2_METADATA_SERVICE_ENDPOINT };
  const container = { ...base, AWS_CONTAINER_CREDENTIALS_FULL_URI: exports.AWS_CONTAINER_CREDENTIALS_FULL_URI };
  if (via === "container") {
    return { ...container, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: exports.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE };
  }
  return {
    ...container,
    AWS_CONTAINER_AUTHORIZATION_TOKEN: Deno.readTextFileSync(exports.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE),
  };
}

const BOTO3 = `
import boto3, json, sys
session = boto3.Session()
creds = session.get_credentials()
frozen = creds.get_frozen_credentials()
s3 = session.client("s3", endpoint_url=sys.argv[1])
print(json.dumps({"method": creds.method, "key": frozen.access_key,
  "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]]}))
`;

const NODE = `
const { S3Client, ListBucketsCommand } = require("@aws-sdk/client-s3");
const client = new S3Client({ endpoint: process.argv[1], forcePathStyle: true });
(async () => {
  const credentials = await client.config.credentials();
  const answer = await client.send(new ListBucketsCommand({}));
  console.log(JSON.stringify({ key: credentials.accessKeyId, buckets: answer.Buckets.map((b) => b.Name) }));
})().catch((error) => { console.error(String(error)); process.exit(1); });
`;

Deno.test("boto3, the AWS CLI and the JS SDK list buckets with credentials from serve (container and IMDSv2)", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  walkthrough.emulator.state.buckets["served-bucket"] = {
    name: "served-bucket",
    creationDate: "2024-01-02T03:04:05.000Z",
    owner: "test",
  };
  const serve = await spawnServe(["--listen", "127.0.0.1:0", "--token-file", `${dir}/token`], {
    HOME: dir,
    ...sessionEnv(walkthrough, leaf),
  });
  try {
    const endpoint = walkthrough.emulator.url;
    const issued = () => Object.keys(walkthrough.emulator.state.sessions);
    assert.equal(issued().length, 1, "serve fetched once at start");
    const [key] = issued();

    for (const via of ["container", "imds"] as const) {
      const boto = await run("python3", ["-c", BOTO3, endpoint], { env: clientEnv(serve.exports, via) });
      assert.equal(boto.code, 0, boto.stderr);
      const result = JSON.parse(boto.stdout);
      assert.equal(result.method, via === "container" ? "container-role" : "iam-role");
      assert.equal(result.key, key);
      assert.deepEqual(result.buckets, ["served-bucket"]);

      const node = await runNode(NODE, clientEnv(serve.exports, via), [endpoint]);
      assert.equal(node.code, 0, node.stderr);
      assert.deepEqual(JSON.parse(node.stdout), { key, buckets: ["served-bucket"] }, via);
    }
    for (const via of ["container-token", "imds"] as const) {
      const cli = await run(AWS, ["s3", "ls", "--endpoint-url", endpoint], { env: clientEnv(serve.exports, via) });
      assert.equal(cli.code, 0, `${via}: ${cli.stderr}`);
      assert.match(cli.stdout, /served-bucket/);
    }
    assert.equal(issued().length, 1, "every client got the credentials serve holds");
  } finally {
    const { code, stderr } = await serve.stop();
    await walkthrough.emulator.close();
    assert.equal(code, 0, stderr);
  }
});

// 40-second credentials (refresh due 9-10 s in, the next one 9-10 s after it, well past the 5 s of
// asking even on a loaded machine) and a slow CreateSession (400 ms), so one refresh is due and then
// running while 200 clients keep asking.
const LIFETIME_SECONDS = 40;
const LATENCY_MS = 400;

Deno.test("200 concurrent clients through a refresh: every answer 200, one CreateSession for the refresh", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), {
    credentialLifetimeSeconds: LIFETIME_SECONDS,
    latencyMs: LATENCY_MS,
  });
  const serve = await spawnServe(["--port", "0", "--token-file", `${dir}/token-200`], {
    HOME: dir,
    ...sessionEnv(walkthrough, leaf),
  });
  try {
    const token = await Deno.readTextFile(serve.exports.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE);
    const health = await (await fetch(`${serve.base}/healthz`)).json();
    // nextRefresh is in whole seconds, at or before the real refresh point: start asking then.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(health.nextRefresh) - Date.now())));
    const before = issuedSessions(walkthrough.sessionLog).length;
    const answers: { status: number; key: string; left: number }[] = [];
    const keys = () => new Set(answers.map((answer) => answer.key));
    const deadline = Date.now() + 5000;
    let wavesAfterRefresh = 0;
    while (wavesAfterRefresh < 2 && Date.now() < deadline) {
      if (keys().size > 1) wavesAfterRefresh++;
      answers.push(
        ...await Promise.all(Array.from({ length: 200 }, async () => {
          const response = await fetch(serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI, {
            headers: { Authorization: token },
          });
          const body = await response.json();
          return { status: response.status, key: body.AccessKeyId, left: Date.parse(body.Expiration) - Date.now() };
        })),
      );
    }
    // A fetch still running has its session logged once the emulator answers.
    await new Promise((resolve) => setTimeout(resolve, LATENCY_MS + 300));
    assert.ok(answers.every((answer) => answer.status === 200), "every answer 200");
    assert.equal(keys().size, 2, `the refresh happened under load (${answers.length} answers)`);
    assert.ok(answers.every((answer) => answer.left > 0), "never expired credentials, also while refreshing");
    assert.equal(issuedSessions(walkthrough.sessionLog).length - before, 1, "the refresh cost one CreateSession");
  } finally {
    await serve.stop();
    await walkthrough.emulator.close();
  }
});
