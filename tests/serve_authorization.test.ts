/**
 * Who gets credentials from `certrole serve`: only a request with the current token. Missing,
 * wrong and stale tokens (a replaced token file, an expired or forged IMDSv2 session token) get a
 * JSON or text error and never credentials; IMDS token requests through a proxy and out-of-range
 * TTLs are refused; /healthz tells no secret; the log holds no secret. A listener other machines
 * can reach is refused without TLS and a token, and with them serves HTTPS (the JS SDK as the
 * client) with IMDS off, picking up a renewed TLS certificate without a restart.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { runNode } from "./support/node_sdk.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, openssl, tempDir, waitFor } from "./support/run.ts";
import { spawnServe } from "./support/serve.ts";

const dir = await tempDir("certrole-serve-auth-");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

async function get(url: string, headers: Record<string, string> = {}, method = "GET") {
  const response = await fetch(url, { method, headers });
  const text = await response.text();
  return { status: response.status, text, headers: response.headers };
}

Deno.test("container endpoint: missing, wrong and replaced tokens get errors, never credentials", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const tokenFile = `${dir}/created.token`;
  const serve = await spawnServe(["--port", "0", "--token-file", tokenFile], {
    HOME: dir,
    ...sessionEnv(walkthrough, leaf),
  });
  try {
    const url = serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI;
    assert.equal(serve.exports.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, tokenFile);
    const token = await Deno.readTextFile(tokenFile);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url, no newline");
    assert.equal((await Deno.stat(tokenFile)).mode! & 0o777, 0o440);
    const [session] = Object.values(walkthrough.emulator.state.sessions);

    const missing = await get(url);
    assert.equal(missing.status, 401);
    assert.equal(JSON.parse(missing.text).Code, "Unauthorized");
    const wrong = await get(url, { Authorization: `${token}x` });
    assert.equal(wrong.status, 403);
    assert.equal(JSON.parse(wrong.text).Code, "AccessDenied");
    for (const answer of [missing, wrong]) assert.ok(!answer.text.includes(session.accessKeyId));

    const right = await get(url, { Authorization: token });
    assert.equal(right.status, 200);
    const body = JSON.parse(right.text);
    assert.deepEqual(Object.keys(body), ["AccessKeyId", "SecretAccessKey", "Token", "Expiration", "AccountId"]);
    assert.equal(body.AccessKeyId, session.accessKeyId);
    assert.equal(body.Token, session.sessionToken);
    assert.equal(body.AccountId, "123456789012");
    assert.match(body.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(right.headers.get("cache-control"), "no-store");

    // Replacing the token file revokes the old token within seconds.
    const next = "replaced-token-0123456789abcdef";
    await Deno.writeTextFile(`${tokenFile}.new`, next, { mode: 0o400 });
    await Deno.rename(`${tokenFile}.new`, tokenFile);
    await waitFor(
      async () => (await get(url, { Authorization: token })).status === 403 || undefined,
      5000,
      "revocation",
    );
    assert.equal((await get(url, { Authorization: next })).status, 200);
    await serve.waitForLog(/token file .* changed: the previous token is refused/);

    const health = await get(`${serve.base}/healthz`);
    assert.equal(health.status, 200);
    assert.ok(!health.text.includes(session.accessKeyId) && !health.text.includes(session.secretAccessKey));
  } finally {
    const { code, stderr, stdout } = await serve.stop();
    await walkthrough.emulator.close();
    assert.equal(code, 0);
    const [session] = Object.values(walkthrough.emulator.state.sessions);
    for (const secret of [session.secretAccessKey, session.sessionToken, leaf.passphrase!]) {
      assert.ok(!stderr.includes(secret) && !stdout.includes(secret), "no secret in the output");
    }
    assert.ok(!stderr.includes(await Deno.readTextFile(tokenFile)), "no token in the log");
  }
});

Deno.test("IMDSv2: tokens required, forged and expired ones refused, TTL and X-Forwarded-For checked", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const serve = await spawnServe(["--port", "0", "--token-file", `${dir}/imds.token`], {
    HOME: dir,
    ...sessionEnv(walkthrough, leaf),
  });
  try {
    const imds = serve.exports.AWS_EC2_METADATA_SERVICE_ENDPOINT.replace(/\/$/, "");
    const credentialsPath = `${imds}/latest/meta-data/iam/security-credentials/`;
    const put = (headers: Record<string, string>) => get(`${imds}/latest/api/token`, headers, "PUT");
    const ttl = "x-aws-ec2-metadata-token-ttl-seconds";

    assert.equal((await get(credentialsPath)).status, 401, "no IMDSv1");
    assert.equal((await put({})).status, 400, "TTL header required");
    assert.equal((await put({ [ttl]: "0" })).status, 400);
    assert.equal((await put({ [ttl]: "21601" })).status, 400);
    assert.equal((await put({ [ttl]: "60", "X-Forwarded-For": "10.0.0.1" })).status, 400);
    assert.equal((await get(`${imds}/latest/api/token`, { [ttl]: "60" })).status, 405, "tokens come from PUT");

    const issued = await put({ [ttl]: "21600" });
    assert.equal(issued.status, 200);
    assert.equal(issued.headers.get(ttl), "21600");
    const token = issued.text;
    const role = await get(credentialsPath, { "x-aws-ec2-metadata-token": token });
    assert.deepEqual([role.status, role.text], [200, "bucket-lister"]);
    const creds = await get(`${credentialsPath}bucket-lister`, { "x-aws-ec2-metadata-token": token });
    assert.equal(creds.status, 200);
    const body = JSON.parse(creds.text);
    assert.equal(body.Code, "Success");
    assert.equal(body.Type, "AWS-HMAC");
    assert.match(body.LastUpdated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(body.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(body.AccessKeyId, Object.keys(walkthrough.emulator.state.sessions)[0]);
    assert.equal((await get(`${credentialsPath}other-role`, { "x-aws-ec2-metadata-token": token })).status, 404);

    const forged = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    assert.equal((await get(credentialsPath, { "x-aws-ec2-metadata-token": forged })).status, 401);
    const containerToken = await Deno.readTextFile(`${dir}/imds.token`);
    assert.equal((await get(credentialsPath, { "x-aws-ec2-metadata-token": containerToken })).status, 401);
    assert.equal((await get(serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI, { Authorization: token })).status, 403);

    const short = (await put({ [ttl]: "1" })).text;
    assert.equal((await get(credentialsPath, { "x-aws-ec2-metadata-token": short })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await get(credentialsPath, { "x-aws-ec2-metadata-token": short })).status, 401, "expired");
  } finally {
    await serve.stop();
    await walkthrough.emulator.close();
  }
});

Deno.test("--no-imds: only the token-protected container endpoint answers", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const serve = await spawnServe(["--port", "0", "--token-file", `${dir}/no-imds.token`, "--no-imds"], {
    HOME: dir,
    ...sessionEnv(walkthrough, leaf),
  });
  try {
    assert.equal(serve.exports.AWS_EC2_METADATA_SERVICE_ENDPOINT, undefined);
    const put = await get(`${serve.base}/latest/api/token`, { "x-aws-ec2-metadata-token-ttl-seconds": "60" }, "PUT");
    assert.equal(put.status, 404);
    const token = await Deno.readTextFile(`${dir}/no-imds.token`);
    assert.equal((await get(serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI, { Authorization: token })).status, 200);
  } finally {
    await serve.stop();
    await walkthrough.emulator.close();
  }
});

Deno.test("a token file other users can read, or one ending in a newline, is refused at start", async () => {
  const env = { HOME: dir, ROLESANYWHERE_CERT_LOCATION: leaf.cert, ...sessionArns() };
  await Deno.writeTextFile(`${dir}/open.token`, "0123456789abcdef0123", { mode: 0o644 });
  await Deno.chmod(`${dir}/open.token`, 0o644);
  const open = await certrole(["serve", "--port", "0", "--token-file", `${dir}/open.token`], { env });
  assert.equal(open.code, 1);
  assert.match(
    open.stderr,
    /^certrole: --token-file ".*open.token" is accessible to other users \(mode 644\): chmod o-rwx/,
  );
  await Deno.writeTextFile(`${dir}/newline.token`, "0123456789abcdef0123\n", { mode: 0o400 });
  const newline = await certrole(["serve", "--port", "0", "--token-file", `${dir}/newline.token`], { env });
  assert.equal(newline.code, 1);
  assert.match(newline.stderr, /no newline .*printf '%s'/);
  assert.equal(newline.stderr.trim().split("\n").length, 1, "one line");
});

/** A self-signed certificate for localhost: PREFIX.crt, PREFIX.key. */
async function selfSignedLocalhost(prefix: string): Promise<void> {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${prefix}.key`,
    "-out",
    `${prefix}.crt`,
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost",
  ]);
}

function sessionArns() {
  return {
    ROLESANYWHERE_TRUST_ANCHOR_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/t",
    ROLESANYWHERE_PROFILE_ARN: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p",
    ROLESANYWHERE_ROLE_ARN: "arn:aws:iam::123456789012:role/r",
  };
}

Deno.test("a non-loopback listener needs TLS and a token file; with them the JS SDK gets credentials over HTTPS", async () => {
  const env = { HOME: dir, ROLESANYWHERE_CERT_LOCATION: leaf.cert, ...sessionArns() };
  for (const args of [["--listen", "0.0.0.0:0"], ["--listen", "0.0.0.0:0", "--token-file", `${dir}/t`]]) {
    const refused = await certrole(["serve", ...args], { env });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^certrole: --listen 0\.0\.0\.0:0 is not a loopback address: .*--tls-cert/);
  }

  await selfSignedLocalhost(`${dir}/tls`);
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  walkthrough.emulator.state.buckets["shared"] = {
    name: "shared",
    creationDate: "2024-01-02T03:04:05.000Z",
    owner: "t",
  };
  const serve = await spawnServe([
    "--listen",
    "0.0.0.0:0",
    "--token-file",
    `${dir}/shared.token`,
    "--tls-cert",
    `${dir}/tls.crt`,
    "--tls-key",
    `${dir}/tls.key`,
  ], { HOME: dir, ...sessionEnv(walkthrough, leaf) });
  try {
    assert.match(serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI, /^https:\/\/localhost:\d+\/v1\/credentials$/);
    assert.equal(serve.exports.AWS_EC2_METADATA_SERVICE_ENDPOINT, undefined, "no IMDS on a shared listener");
    await serve.waitForLog(/IMDS off/);
    const node = await runNode(
      `const { S3Client, ListBucketsCommand } = require("@aws-sdk/client-s3");
       new S3Client({ endpoint: process.argv[1], forcePathStyle: true }).send(new ListBucketsCommand({}))
         .then((r) => console.log(r.Buckets.map((b) => b.Name).join(",")), (e) => { console.error(String(e)); process.exit(1); });`,
      {
        HOME: dir,
        AWS_REGION: "us-east-1",
        AWS_CONFIG_FILE: `${dir}/no-config`,
        AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: `${dir}/shared.token`,
        NODE_EXTRA_CA_CERTS: `${dir}/tls.crt`,
      },
      [walkthrough.emulator.url],
    );
    assert.equal(node.code, 0, node.stderr);
    assert.equal(node.stdout.trim(), "shared");
    const plain = await fetch(`${serve.base.replace("https:", "http:")}/healthz`).then(
      () => "answered",
      () => "refused",
    );
    assert.equal(plain, "refused", "no plain HTTP on the TLS listener");
  } finally {
    await serve.stop();
    await walkthrough.emulator.close();
  }
});
