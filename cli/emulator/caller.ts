/**
 * Who is calling the emulator with an access key, and may they do it. Authentication checks
 * the SigV4 signature (with the AWS SDK's signer), the session token and expiry and the clock
 * skew; authorization evaluates the role's inline policies (and the profile's session policy)
 * for session credentials against the request's global condition keys (request_context.ts),
 * while administrator keys may do anything, like an account's root.
 */
import type { Policy } from "./policy/document.ts";
import { evaluateSession } from "./policy/evaluate.ts";
import { Fault } from "./fault.ts";
import { policyFromText } from "./parsed_cache.ts";
import { type RequestFacts, sessionConditionKeys } from "./request_context.ts";
import {
  expectedHmacSignature,
  parseAmzDate,
  type ParsedAuthorization,
  type ReceivedRequest,
  sameSignature,
} from "./sigv4_verify.ts";
import { arnOf, type EmulatorState, type IssuedSession } from "./state.ts";

export type Caller =
  | { readonly kind: "admin"; readonly accessKeyId: string; readonly arn: string; readonly userId: string }
  | {
    readonly kind: "session";
    readonly accessKeyId: string;
    readonly arn: string;
    readonly userId: string;
    readonly session: IssuedSession;
    /** What the policies are evaluated against, besides the session. */
    readonly facts: RequestFacts;
  };

/** How the request reached the emulator: over TLS or not, and from which address. */
export interface Connection {
  readonly secureTransport: boolean;
  readonly sourceIp?: string;
}

const MAX_SKEW_MS = 15 * 60 * 1000;

export async function authenticate(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  state: EmulatorState,
  now: Date,
  connection: Connection,
): Promise<Caller> {
  if (auth.algorithm !== "AWS4-HMAC-SHA256") {
    throw new Fault(400, "IncompleteSignature", `Unsupported signing algorithm ${auth.algorithm}`);
  }
  const admin = state.admins[auth.credential];
  const session = state.sessions[auth.credential];
  if (!admin && !session) {
    throw new Fault(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  }
  const signedAt = parseAmzDate(request.headers.get("x-amz-date"));
  if (!signedAt) throw new Fault(403, "SignatureDoesNotMatch", "X-Amz-Date is missing or malformed");
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_SKEW_MS) {
    throw new Fault(
      403,
      auth.service === "s3" ? "RequestTimeTooSkewed" : "SignatureDoesNotMatch",
      "The difference between the request time and the current time is too large.",
    );
  }
  const token = request.headers.get("x-amz-security-token");
  if (session) {
    if (token !== session.sessionToken) {
      throw new Fault(403, "InvalidToken", "The security token included in the request is invalid.");
    }
    if (now.getTime() >= Date.parse(session.expiration)) {
      throw new Fault(400, "ExpiredToken", "The provided token has expired.");
    }
  }
  const secretAccessKey = admin?.secretAccessKey ?? session!.secretAccessKey;
  const expected = await expectedHmacSignature(
    request,
    auth,
    {
      accessKeyId: auth.credential,
      secretAccessKey,
      sessionToken: session && auth.signedHeaders.includes("x-amz-security-token") ? session.sessionToken : undefined,
    },
    signedAt,
  );
  if (!sameSignature(expected, auth.signature)) {
    throw new Fault(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    );
  }
  if (admin) {
    return {
      kind: "admin",
      accessKeyId: auth.credential,
      arn: arnOf(state, "iam", "root"),
      userId: state.accountId,
    };
  }
  const roleName = session!.roleArn.split("/").pop()!;
  const role = Object.values(state.roles).find((candidate) => candidate.arn === session!.roleArn);
  return {
    kind: "session",
    accessKeyId: auth.credential,
    arn: arnOf(state, "sts", `assumed-role/${roleName}/${session!.roleSessionName}`),
    userId: `${role?.roleId ?? "AROA"}:${session!.roleSessionName}`,
    session: session!,
    facts: { time: now, region: auth.region, ...connection },
  };
}

/** Whether the caller may perform `action` on `resource`. */
export function isAllowed(caller: Caller, action: string, resource: string, state: EmulatorState): boolean {
  if (caller.kind === "admin") return true;
  const role = Object.values(state.roles).find((candidate) => candidate.arn === caller.session.roleArn);
  if (!role) return false; // the role was deleted after the session was issued
  const policies: Policy[] = Object.values(role.policies).map(policyFromText);
  const sessionPolicy = caller.session.sessionPolicy ? policyFromText(caller.session.sessionPolicy) : undefined;
  const keys = sessionConditionKeys(caller.session, role, state.accountId, caller.facts);
  return evaluateSession(policies, sessionPolicy, { action, resource, keys }) === "Allow";
}

/** The IAM-style sentence for a denied call. */
export function notAuthorized(caller: Caller, action: string, resource?: string): string {
  return `User: ${caller.arn} is not authorized to perform: ${action}${
    resource && resource !== "*" ? ` on resource: ${resource}` : ""
  } because no identity-based policy allows the ${action} action`;
}
