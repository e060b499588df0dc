/**
 * The request context IAM evaluates a role session's call against: the global condition keys AWS
 * sets for a request signed with temporary credentials from CreateSession. Pure: the session, its
 * role and the facts about the request (time, transport, source address, region) are arguments.
 *
 * What each key holds for an assumed-role session, from "AWS global condition context keys"
 * (reference_policies_condition-keys.html) and its principal table (reference_policies_elements_
 * principal.html): aws:CurrentTime and aws:EpochTime, aws:SecureTransport, aws:RequestedRegion
 * and aws:PrincipalType ("AssumedRole") are always present; aws:SourceIp unless the call came
 * through a VPC endpoint; aws:userid is "role-id:role-session-name"; aws:username is only for IAM
 * users, so it is absent; aws:TokenIssueTime and aws:MultiFactorAuthPresent are present for
 * temporary credentials, the latter "false" here since no MFA ever stands behind a certificate
 * (a Deny on Bool aws:MultiFactorAuthPresent "false" therefore denies, as the guide warns it
 * does for temporary credentials without MFA); aws:ViaAWSService and aws:PrincipalIsAWSService
 * are "false" for a call the principal makes itself. aws:PrincipalArn is the role's ARN, not the
 * session's.
 */
import type { IssuedSession, Role } from "./state.ts";
import { isoSeconds } from "../iso_time.ts";

/** What the emulator knows about one request beyond its signature. */
export interface RequestFacts {
  readonly time: Date;
  /** Whether it arrived over TLS. */
  readonly secureTransport: boolean;
  /** The peer's address, when the request came over TCP. */
  readonly sourceIp?: string;
  /** The region of the signature's credential scope: the endpoint's region the caller called. */
  readonly region: string;
}

export function sessionConditionKeys(
  session: IssuedSession,
  role: Pick<Role, "arn" | "roleId">,
  accountId: string,
  facts: RequestFacts,
): Record<string, string> {
  const keys: Record<string, string> = {
    "aws:CurrentTime": isoSeconds(facts.time),
    "aws:EpochTime": String(Math.floor(facts.time.getTime() / 1000)),
    "aws:SecureTransport": String(facts.secureTransport),
    "aws:RequestedRegion": facts.region,
    "aws:PrincipalArn": role.arn,
    "aws:PrincipalAccount": accountId,
    "aws:PrincipalType": "AssumedRole",
    "aws:userid": `${role.roleId}:${session.roleSessionName}`,
    "aws:MultiFactorAuthPresent": "false",
    "aws:ViaAWSService": "false",
    "aws:PrincipalIsAWSService": "false",
  };
  if (facts.sourceIp) keys["aws:SourceIp"] = facts.sourceIp;
  if (session.issuedAt) keys["aws:TokenIssueTime"] = session.issuedAt;
  if (session.sourceIdentity) keys["aws:SourceIdentity"] = session.sourceIdentity;
  for (const [tag, value] of Object.entries(session.principalTags)) keys[`aws:PrincipalTag/${tag}`] = value;
  return keys;
}
