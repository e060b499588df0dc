/**
 * The credential server's answers, one listener for three protocols, each in the exact form the
 * AWS SDKs parse (checked against botocore, the AWS CLI v2 and the AWS SDK for JavaScript v3):
 *
 * - the container credential provider (`AWS_CONTAINER_CREDENTIALS_FULL_URI`): `GET /v1/credentials`
 *   with the raw token as `Authorization`; JSON with AccessKeyId, SecretAccessKey, Token,
 *   Expiration (RFC 3339, `Z`: the JS SDK's parser accepts nothing else) and AccountId. Errors are
 *   JSON with `Code` and `Message`, which the JS SDK reads from 4xx answers.
 * - IMDSv2 (`AWS_EC2_METADATA_SERVICE_ENDPOINT`): token PUT, role name, role credentials with
 *   Code/Type/LastUpdated; no IMDSv1 (a GET without a valid token is 401, so SDKs cannot fall
 *   back to it). Times are whole seconds: botocore parses IMDS expirations as `%Y-%m-%dT%H:%M:%SZ`.
 * - `GET /healthz`: 200 while usable credentials are held, 503 otherwise; never a secret.
 *
 * No route ever answers 200 without complete credentials.
 */
import type { Held } from "../credentials/credential_keeper.ts";
import { metadataTime } from "../credentials/refresh_schedule.ts";
import type { Authorization } from "./authorization_token.ts";
import { type ImdsSessions, requestedTtl, TOKEN_HEADER, TTL_HEADER } from "./imds_session.ts";

export const CONTAINER_PATH = "/v1/credentials";
const CREDENTIALS_PREFIX = "/latest/meta-data/iam/security-credentials";

export interface EndpointContext {
  /** The credentials to hand out now, if any. */
  readonly usable: () => Held | undefined;
  readonly authorize: (header: string | null) => Promise<Authorization>;
  /** Undefined when IMDS is off (--no-imds, or a listener other machines reach: IMDS has no client authentication). */
  readonly imds?: ImdsSessions;
  readonly roleName: string;
  readonly accountId: string;
  readonly now: () => Date;
}

const NO_STORE = { "cache-control": "no-store" };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...NO_STORE, ...headers },
  });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain", ...NO_STORE, ...headers } });
}

/** The error every route answers: JSON {Code, Message}, never cached. */
export function jsonError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return json(status, { Code: code, Message: message }, headers);
}

function methodNotAllowed(allowed: string): Response {
  return jsonError(405, "MethodNotAllowed", `use ${allowed}`, { allow: allowed });
}

function unavailable(): Response {
  return jsonError(
    503,
    "CredentialsUnavailable",
    "no credentials with enough time left are held: the refresh is failing (see the server's log)",
  );
}

function health(context: EndpointContext): Response {
  const held = context.usable();
  if (!held) return json(503, { status: "unavailable" });
  return json(200, {
    status: "ok",
    expiration: metadataTime(held.plan.expiresAt),
    nextRefresh: metadataTime(held.plan.refreshAt),
  });
}

async function container(request: Request, context: EndpointContext): Promise<Response> {
  if (request.method !== "GET") return methodNotAllowed("GET");
  const authorization = await context.authorize(request.headers.get("authorization"));
  if (authorization === "missing") {
    return jsonError(401, "Unauthorized", "send the token (AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]) as Authorization");
  }
  if (authorization === "wrong") return jsonError(403, "AccessDenied", "the Authorization token is not this server's");
  const held = context.usable();
  if (!held) return unavailable();
  const { credentials, plan } = held;
  return json(200, {
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: metadataTime(plan.expiresAt),
    AccountId: context.accountId,
  });
}

async function imdsToken(request: Request, context: EndpointContext, imds: ImdsSessions): Promise<Response> {
  if (request.method !== "PUT") return methodNotAllowed("PUT");
  // IMDS refuses token requests that came through a proxy (an SSRF relay); so does AWS's helper.
  if (request.headers.has("x-forwarded-for")) {
    return text(400, "token requests with an X-Forwarded-For header are refused");
  }
  const ttl = requestedTtl(request.headers.get(TTL_HEADER));
  if (typeof ttl === "string") return text(400, ttl);
  return text(200, await imds.issue(ttl, context.now()), { [TTL_HEADER]: String(ttl) });
}

async function imdsCredentials(
  request: Request,
  context: EndpointContext,
  imds: ImdsSessions,
  rest: string,
): Promise<Response> {
  if (request.method !== "GET") return methodNotAllowed("GET");
  if (!await imds.valid(request.headers.get(TOKEN_HEADER), context.now())) {
    return text(401, `IMDSv2 only: PUT /latest/api/token first and send ${TOKEN_HEADER} (missing, wrong or expired)`);
  }
  const role = rest.replace(/^\/|\/$/g, "");
  if (role === "") return text(200, context.roleName);
  if (role !== context.roleName) return text(404, `no role ${role} here; this server serves ${context.roleName}`);
  const held = context.usable();
  if (!held) return unavailable();
  const { credentials, plan } = held;
  return json(200, {
    Code: "Success",
    LastUpdated: metadataTime(plan.obtainedAt),
    Type: "AWS-HMAC",
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: metadataTime(plan.expiresAt),
  });
}

export async function answer(request: Request, context: EndpointContext): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === "/healthz") return request.method === "GET" ? health(context) : methodNotAllowed("GET");
  if (path === CONTAINER_PATH) return await container(request, context);
  if (path.startsWith("/latest/")) {
    const imds = context.imds;
    if (!imds) {
      return jsonError(
        404,
        "NotFound",
        "IMDS is off on this server (--no-imds, or not a loopback listener): use /v1/credentials",
      );
    }
    if (path === "/latest/api/token" || path === "/latest/api/token/") return await imdsToken(request, context, imds);
    if (path === CREDENTIALS_PREFIX || path.startsWith(`${CREDENTIALS_PREFIX}/`)) {
      return await imdsCredentials(request, context, imds, path.slice(CREDENTIALS_PREFIX.length));
    }
  }
  return jsonError(404, "NotFound", `no ${path} here: ${CONTAINER_PATH}, /latest/api/token (IMDSv2) or /healthz`);
}
