/**
 * Calls made with CreateSession's credentials are evaluated against the global condition keys AWS
 * sets for them, so Deny guardrails on them deny: aws:SecureTransport "false" over HTTP (and not
 * over HTTPS), aws:CurrentTime and aws:EpochTime, aws:RequestedRegion, aws:userid
 * ("role-id:session-name"), aws:SourceIp, aws:PrincipalType, aws:TokenIssueTime,
 * aws:MultiFactorAuthPresent "false", and aws:username absent (roles have none). Each guardrail is
 * tried both ways, denying and not, on S3 ListBuckets signed by the AWS SDK's signer; the HTTP
 * guardrail also through the AWS CLI and credential_process.
 */
import assert from "node:assert/strict";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { deleteRolePolicy, putRolePolicy } from "../cli/emulator/resources.ts";
import { makeTlsMaterial } from "../cli/emulator/tls_certificate.ts";
import { AWS, credentialProcessEnv } from "./support/aws_cli.ts";
import { signedCreateSession } from "./support/create_session.ts";
import { startWalkthrough, type Walkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole condition keys ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf", { passphrase: null });
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

async function sessionCredentials(walkthrough: Walkthrough): Promise<Credentials> {
  const answer = await signedCreateSession(walkthrough, leaf);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body.credentialSet[0].credentials;
}

/** S3 ListBuckets (GET /), signed like an AWS SDK signs it; the HTTP status. */
async function listBuckets(
  walkthrough: Walkthrough,
  credentials: Credentials,
  client?: Deno.HttpClient,
): Promise<number> {
  const target = new URL(walkthrough.emulator.url);
  const signer = new SignatureV4({ service: "s3", region: "us-east-1", credentials, sha256: Sha256 });
  const signed = await signer.sign({
    method: "GET",
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: "/",
    headers: { host: target.host, "x-amz-content-sha256": EMPTY_SHA256 },
  });
  const headers = { ...signed.headers as Record<string, string> };
  delete headers.host;
  const response = await fetch(`${walkthrough.emulator.url}/`, { headers, client });
  await response.body?.cancel();
  return response.status;
}

const deny = (condition: Record<string, Record<string, string | string[]>>) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Deny", Action: "*", Resource: "*", Condition: condition }],
  });

/** Whether the guardrail denies ListBuckets for this session (the role's Allow stays in place). */
async function denies(
  walkthrough: Walkthrough,
  credentials: Credentials,
  condition: Record<string, Record<string, string | string[]>>,
  client?: Deno.HttpClient,
): Promise<boolean> {
  putRolePolicy(walkthrough.emulator.state, "bucket-lister", "guardrail", deny(condition));
  try {
    const status = await listBuckets(walkthrough, credentials, client);
    assert.ok(status === 200 || status === 403, `status ${status}`);
    return status === 403;
  } finally {
    deleteRolePolicy(walkthrough.emulator.state, "bucket-lister", "guardrail");
  }
}

Deno.test("Deny guardrails on global condition keys deny role sessions", async (t) => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const credentials = await sessionCredentials(walkthrough);
    const roleId = walkthrough.emulator.state.roles["bucket-lister"].roleId;
    assert.equal(await listBuckets(walkthrough, credentials), 200, "the role's own policy allows ListBuckets");

    await t.step("aws:SecureTransport is false over HTTP", async () => {
      assert.equal(await denies(walkthrough, credentials, { Bool: { "aws:SecureTransport": "false" } }), true);
      assert.equal(await denies(walkthrough, credentials, { Bool: { "aws:SecureTransport": "true" } }), false);
    });

    await t.step("aws:CurrentTime and aws:EpochTime are the time of the request", async () => {
      const past = "2020-01-01T00:00:00Z";
      assert.equal(await denies(walkthrough, credentials, { DateGreaterThan: { "aws:CurrentTime": past } }), true);
      assert.equal(await denies(walkthrough, credentials, { DateLessThan: { "aws:CurrentTime": past } }), false);
      assert.equal(
        await denies(walkthrough, credentials, { NumericGreaterThan: { "aws:EpochTime": "1577836800" } }),
        true,
      );
      assert.equal(await denies(walkthrough, credentials, { DateLessThan: { "aws:EpochTime": "1577836800" } }), false);
    });

    await t.step("aws:RequestedRegion is the region the call is signed for", async () => {
      const outsideEu = { StringNotEquals: { "aws:RequestedRegion": ["eu-west-1", "eu-central-1"] } };
      assert.equal(await denies(walkthrough, credentials, outsideEu), true);
      assert.equal(
        await denies(walkthrough, credentials, { StringNotEquals: { "aws:RequestedRegion": "us-east-1" } }),
        false,
      );
    });

    await t.step("aws:userid is role-id:session-name; aws:username is absent for roles", async () => {
      assert.equal(await denies(walkthrough, credentials, { StringLike: { "aws:userid": `${roleId}:*` } }), true);
      assert.equal(await denies(walkthrough, credentials, { StringLike: { "aws:userid": "AIDA*" } }), false);
      assert.equal(await denies(walkthrough, credentials, { Null: { "aws:username": "true" } }), true);
      assert.equal(await denies(walkthrough, credentials, { StringLike: { "aws:username": "*" } }), false);
    });

    await t.step("aws:SourceIp is the caller's address", async () => {
      const local = { NotIpAddress: { "aws:SourceIp": ["127.0.0.0/8", "::1/128"] } };
      assert.equal(await denies(walkthrough, credentials, local), false);
      assert.equal(await denies(walkthrough, credentials, { NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }), true);
    });

    await t.step("aws:PrincipalType, aws:TokenIssueTime, aws:MultiFactorAuthPresent", async () => {
      assert.equal(
        await denies(walkthrough, credentials, { StringEquals: { "aws:PrincipalType": "AssumedRole" } }),
        true,
      );
      assert.equal(
        await denies(walkthrough, credentials, { DateGreaterThan: { "aws:TokenIssueTime": "2020-01-01T00:00:00Z" } }),
        true,
      );
      assert.equal(await denies(walkthrough, credentials, { Null: { "aws:TokenIssueTime": "true" } }), false);
      assert.equal(
        await denies(walkthrough, credentials, { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } }),
        true,
      );
      assert.equal(await denies(walkthrough, credentials, { Bool: { "aws:MultiFactorAuthPresent": "true" } }), false);
    });

    await t.step("the AWS CLI through credential_process is denied over HTTP by the same guardrail", async () => {
      const env = await credentialProcessEnv(dir, "http", leaf, walkthrough, walkthrough.emulator.url);
      const ls = () => run(AWS, ["s3", "ls", "--endpoint-url", walkthrough.emulator.url], { env });
      assert.equal((await ls()).code, 0);
      putRolePolicy(
        walkthrough.emulator.state,
        "bucket-lister",
        "guardrail",
        deny({
          Bool: { "aws:SecureTransport": "false" },
        }),
      );
      const denied = await ls();
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /AccessDenied/);
      deleteRolePolicy(walkthrough.emulator.state, "bucket-lister", "guardrail");
    });
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("over HTTPS aws:SecureTransport is true: the same guardrail lets the call through", async () => {
  const tls = await makeTlsMaterial("127.0.0.1", new Date());
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), {
    tls: { cert: tls.chainPem, key: tls.keyPem },
  });
  // HTTP/1.1, as the AWS SDKs and certrole speak it.
  const client = Deno.createHttpClient({ caCerts: [tls.caPem], http1: true, http2: false });
  try {
    assert.match(walkthrough.emulator.url, /^https:/);
    const answer = await signedCreateSession(walkthrough, leaf, { client });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const credentials = answer.body.credentialSet[0].credentials;
    assert.equal(await denies(walkthrough, credentials, { Bool: { "aws:SecureTransport": "false" } }, client), false);
    assert.equal(await denies(walkthrough, credentials, { Bool: { "aws:SecureTransport": "true" } }, client), true);
  } finally {
    client.close();
    await walkthrough.emulator.close();
  }
});
