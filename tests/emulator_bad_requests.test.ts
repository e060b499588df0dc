/**
 * Requests the emulator must refuse without falling over: unsigned, malformed Authorization,
 * unknown keys, bad signatures, expired credentials, garbage bodies, unknown operations and
 * services, oversized bodies. Each gets the calling service's error shape (JSON with
 * X-Amzn-ErrorType for Roles Anywhere, IAM's ErrorResponse XML, S3's Error XML, EC2's
 * Response/Errors XML), never a 500, and the emulator keeps serving.
 */
import assert from "node:assert/strict";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { startEmulator } from "../cli/emulator/server.ts";

const emulator = await startEmulator();
const { url, admin } = emulator;

interface Sent {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

/** Signs like an AWS SDK would (service and region in the scope), then sends. */
async function signed(
  service: string,
  request: Sent,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = admin,
  region = "us-east-1",
) {
  const target = new URL(url);
  const signer = new SignatureV4({ service, region, credentials, sha256: Sha256 });
  const signedRequest = await signer.sign({
    method: request.method ?? "POST",
    protocol: "http:",
    hostname: target.hostname,
    port: Number(target.port),
    path: request.path ?? "/",
    query: request.query ?? {},
    headers: { host: target.host, ...request.headers },
    body: request.body,
  });
  const query = new URLSearchParams(request.query ?? {}).toString();
  const headers = { ...signedRequest.headers as Record<string, string> };
  delete headers.host;
  return await send({ ...request, headers }, query);
}

async function send(request: Sent, query = "") {
  const response = await fetch(`${url}${request.path ?? "/"}${query ? `?${query}` : ""}`, {
    method: request.method ?? "POST",
    headers: request.headers,
    body: request.body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const form = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };

function iamError(result: { status: number; text: string }, status: number, code: string) {
  assert.equal(result.status, status, result.text);
  assert.match(
    result.text,
    new RegExp(
      `^<\\?xml[^>]*>\\s*<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>`,
    ),
  );
}

function jsonError(result: { status: number; headers: Headers; text: string }, status: number, code: string) {
  assert.equal(result.status, status, result.text);
  assert.equal(result.headers.get("x-amzn-errortype"), code);
  assert.equal(typeof JSON.parse(result.text).message, "string");
}

Deno.test("the emulator answers bad requests in each service's error format and keeps serving", async (t) => {
  try {
    await t.step("unsigned requests", async () => {
      jsonError(await send({ method: "GET", path: "/trustanchors" }), 403, "MissingAuthenticationTokenException");
      iamError(
        await send({ headers: form, body: "Action=ListRoles&Version=2010-05-08" }),
        403,
        "MissingAuthenticationTokenException",
      );
      jsonError(
        await send({ method: "GET", path: "/", headers: { authorization: "AWS4-HMAC-SHA256 garbage" } }),
        403,
        "MissingAuthenticationTokenException",
      );
    });

    await t.step("unknown access key, wrong secret, expired session credentials", async () => {
      const stranger = { accessKeyId: "AKIAUNKNOWNKEY000001", secretAccessKey: "x" };
      iamError(await signed("iam", { headers: form, body: "Action=ListRoles" }, stranger), 403, "InvalidAccessKeyId");
      const s3 = await signed("s3", { method: "GET" }, stranger);
      assert.equal(s3.status, 403);
      assert.match(s3.text, /<Error><Code>InvalidAccessKeyId<\/Code>/);
      const wrongSecret = { accessKeyId: admin.accessKeyId, secretAccessKey: "not-the-secret" };
      iamError(
        await signed("iam", { headers: form, body: "Action=ListRoles" }, wrongSecret),
        403,
        "SignatureDoesNotMatch",
      );
      const ec2 = await signed(
        "ec2",
        { headers: form, body: "Action=DescribeInstances&Version=2016-11-15" },
        wrongSecret,
      );
      assert.equal(ec2.status, 403);
      assert.match(ec2.text, /<Response><Errors><Error><Code>SignatureDoesNotMatch<\/Code>/);
      emulator.state.sessions.ASIAEXPIREDSESSION01 = {
        accessKeyId: "ASIAEXPIREDSESSION01",
        secretAccessKey: "expired-secret",
        sessionToken: "expired-token",
        expiration: "2020-01-01T00:00:00Z",
        roleArn: "arn:aws:iam::123456789012:role/gone",
        roleSessionName: "old",
        trustAnchorArn: "",
        profileArn: "",
        certificateSerial: "1",
        principalTags: {},
      };
      const expired = await signed("s3", { method: "GET" }, {
        accessKeyId: "ASIAEXPIREDSESSION01",
        secretAccessKey: "expired-secret",
        sessionToken: "expired-token",
      });
      assert.equal(expired.status, 400);
      assert.match(expired.text, /<Code>ExpiredToken<\/Code>/);
      const wrongToken = await signed("s3", { method: "GET" }, {
        accessKeyId: "ASIAEXPIREDSESSION01",
        secretAccessKey: "expired-secret",
        sessionToken: "another-token",
      });
      assert.equal(wrongToken.status, 403);
      assert.match(wrongToken.text, /<Code>InvalidToken<\/Code>/);
    });

    await t.step("garbage bodies, unknown operations, unknown services", async () => {
      iamError(await signed("iam", { headers: form, body: "Action=LaunchRockets" }), 400, "InvalidAction");
      iamError(await signed("iam", { headers: form, body: "\u0000\u0001garbage=%%%" }), 400, "InvalidAction");
      iamError(await signed("iam", { headers: form, body: "Action=CreateRole&RoleName=x" }), 400, "ValidationError");
      iamError(
        await signed("iam", {
          headers: form,
          body: "Action=CreateRole&RoleName=x&AssumeRolePolicyDocument=" + encodeURIComponent("{not json"),
        }),
        400,
        "MalformedPolicyDocument",
      );
      const json = { "content-type": "application/json" };
      jsonError(
        await signed("rolesanywhere", { path: "/trustanchors", headers: json, body: "{not json" }),
        400,
        "SerializationException",
      );
      jsonError(
        await signed("rolesanywhere", { path: "/trustanchors", headers: json, body: "[1,2]" }),
        400,
        "SerializationException",
      );
      jsonError(
        await signed("rolesanywhere", { path: "/trustanchors", headers: json, body: JSON.stringify({ name: 5 }) }),
        400,
        "ValidationException",
      );
      jsonError(
        await signed("rolesanywhere", {
          path: "/trustanchors",
          headers: json,
          body: JSON.stringify({
            name: "x",
            source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: "garbage" } },
          }),
        }),
        400,
        "ValidationException",
      );
      jsonError(await signed("rolesanywhere", { method: "GET", path: "/rockets" }), 404, "UnknownOperationException");
      jsonError(
        await signed("rolesanywhere", { method: "GET", path: "/trustanchor/not-a-uuid" }),
        400,
        "ValidationException",
      );
      jsonError(
        await signed("rolesanywhere", { method: "PUT", path: "/trustanchors" }),
        405,
        "MethodNotAllowedException",
      );
      jsonError(
        await signed("rolesanywhere", { method: "GET", path: "/profile/00000000-0000-0000-0000-000000000000" }),
        404,
        "ResourceNotFoundException",
      );
      jsonError(await signed("lambda", { method: "GET", path: "/" }), 400, "UnsupportedOperation");
      const ec2 = await signed("ec2", { headers: form, body: "Action=TerminateInstances" });
      assert.equal(ec2.status, 400);
      assert.match(ec2.text, /<Code>InvalidAction<\/Code>/);
    });

    await t.step("SigV4-X509 with a garbage certificate, or on another path", async () => {
      const x509 = {
        authorization:
          "AWS4-X509-RSA-SHA256 Credential=1/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-x509, Signature=00",
        "x-amz-date": "20240101T000000Z",
        "x-amz-x509": "bm90IGEgY2VydGlmaWNhdGU=",
        "content-type": "application/json",
      };
      jsonError(await send({ path: "/sessions", headers: x509, body: "{}" }), 400, "ValidationException");
      jsonError(await send({ path: "/elsewhere", headers: x509, body: "{}" }), 404, "ResourceNotFoundException");
    });

    await t.step("an oversized body is refused before it is read", async () => {
      const huge = "Action=ListRoles&x=" + "a".repeat(2 << 20);
      iamError(await signed("iam", { headers: form, body: huge }), 413, "RequestEntityTooLarge");
    });

    await t.step("still serving: a correct call works", async () => {
      const ok = await signed("iam", { headers: form, body: "Action=ListRoles&Version=2010-05-08" });
      assert.equal(ok.status, 200, ok.text);
      assert.match(
        ok.text,
        /<ListRolesResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><ListRolesResult><Roles><\/Roles><IsTruncated>false<\/IsTruncated><\/ListRolesResult>/,
      );
    });
  } finally {
    await emulator.close();
  }
});
