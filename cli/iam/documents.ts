/**
 * The walkthrough's two IAM documents, generated instead of hand-written: the role's trust
 * policy for IAM Roles Anywhere (conditions on the certificate's attributes and the trust
 * anchor) and a least-privilege permissions policy. Pure; inputs are validated with one-line
 * errors.
 *
 * @example
 * ```ts
 * trustPolicy({ cn: "myContainer" });
 * permissionsPolicy({ allow: ["s3:ListAllMyBuckets"] });
 * ```
 */
import { tryParseArn } from "../arn.ts";
import { isRegionName } from "../aws_partitions.ts";
import { fail } from "../errors.ts";

export const ROLES_ANYWHERE_PRINCIPAL = "rolesanywhere.amazonaws.com";
/** What a role must let Roles Anywhere do: assume it, tag the session, set the source identity. */
export const TRUST_ACTIONS = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"] as const;

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly Record<string, unknown>[];
}

export interface TrustPolicyOptions {
  /** x509Subject/CN the certificate must carry. */
  readonly cn?: string;
  /** Other subject attributes: O, OU, C, ST, L. */
  readonly subject?: Readonly<Record<string, string>>;
  /** x509Issuer/CN: the issuing CA's common name. */
  readonly issuerCn?: string;
  /** x509SAN/DNS values (any of them). */
  readonly sanDns?: readonly string[];
  /** x509SAN/URI values (any of them). */
  readonly sanUri?: readonly string[];
  /** aws:SourceArn: the trust anchors allowed to vend sessions for this role. */
  readonly trustAnchorArns?: readonly string[];
}

const SUBJECT_ATTRIBUTES = ["CN", "O", "OU", "C", "ST", "L"];

export function trustPolicy(options: TrustPolicyOptions): PolicyDocument {
  const equals: Record<string, string | string[]> = {};
  const set = (key: string, values: readonly string[]) => {
    if (values.length) equals[key] = values.length === 1 ? values[0] : [...values];
  };
  if (options.cn !== undefined) set("aws:PrincipalTag/x509Subject/CN", [nonEmpty(options.cn, "--cn")]);
  for (const [attribute, value] of Object.entries(options.subject ?? {})) {
    if (!SUBJECT_ATTRIBUTES.includes(attribute)) {
      fail(
        "InvalidSetting",
        `subject attribute ${attribute} is not one Roles Anywhere maps (use ${SUBJECT_ATTRIBUTES.join(", ")})`,
      );
    }
    set(`aws:PrincipalTag/x509Subject/${attribute}`, [nonEmpty(value, attribute)]);
  }
  if (options.issuerCn !== undefined) {
    set("aws:PrincipalTag/x509Issuer/CN", [nonEmpty(options.issuerCn, "--issuer-cn")]);
  }
  set("aws:PrincipalTag/x509SAN/DNS", options.sanDns ?? []);
  set("aws:PrincipalTag/x509SAN/URI", options.sanUri ?? []);
  const anchors = options.trustAnchorArns ?? [];
  for (const arn of anchors) checkTrustAnchorArn(arn);
  if (Object.keys(equals).length === 0 && anchors.length === 0) {
    fail(
      "InvalidSetting",
      "a trust policy without conditions lets every certificate the trust anchor accepts assume the role: give --cn (or another attribute) or --trust-anchor-arn",
    );
  }
  const condition: Record<string, unknown> = {};
  if (Object.keys(equals).length) condition.StringEquals = equals;
  if (anchors.length) condition.ArnEquals = { "aws:SourceArn": anchors.length === 1 ? anchors[0] : [...anchors] };
  return {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: ROLES_ANYWHERE_PRINCIPAL },
      Action: [...TRUST_ACTIONS],
      Condition: condition,
    }],
  };
}

function nonEmpty(value: string, what: string): string {
  if (value.trim() === "") fail("InvalidSetting", `${what} must not be empty`);
  return value;
}

/** service:Action with optional wildcards, as IAM accepts them (e.g. s3:ListAllMyBuckets, ec2:Describe*). */
export function checkAction(action: string): string {
  if (!/^[a-z0-9-]+:[A-Za-z0-9*?]+$/.test(action)) {
    fail("InvalidSetting", `"${action}" is not an IAM action (like s3:ListAllMyBuckets or ec2:Describe*)`);
  }
  return action;
}

/**
 * Why `text` is not a well-formed ARN, or undefined when it is. Policy ARNs may hold wildcards
 * in any part (arn:aws:s3:::my-bucket/*, arn:aws:dynamodb:*:*:table/orders).
 */
function arnProblem(text: string): string | undefined {
  const arn = tryParseArn(text);
  if (!arn) return "it is not arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE";
  if (!/^(aws(-[a-z]+)*|\*)$/.test(arn.partition)) {
    return `partition "${arn.partition}" is not aws, aws-cn, aws-us-gov...`;
  }
  if (!/^[a-z0-9*?-]+$/.test(arn.service)) return `service "${arn.service}" is not a service name like s3`;
  if (!/^[a-z0-9*?-]*$/.test(arn.region)) return `region "${arn.region}" is not a region like us-east-1`;
  const account = /^(\d{12}|aws)?$/.test(arn.account) || /^[0-9]*[*?][0-9*?]*$/.test(arn.account);
  if (!account) return `account "${arn.account}" is not a 12-digit account ID`;
  if (/\s/.test(arn.resource)) return "the resource part contains white space";
  return undefined;
}

/** "*" or an ARN (wildcards allowed inside). */
export function checkResource(resource: string): string {
  const problem = resource === "*" ? undefined : arnProblem(resource);
  if (problem) {
    fail("InvalidSetting", `"${resource}" is not "*" or an ARN (${problem}): use e.g. arn:aws:s3:::my-bucket`);
  }
  return resource;
}

/** arn:aws:rolesanywhere:REGION:ACCOUNT:trust-anchor/ID, with a real region and account (no wildcards). */
export function checkTrustAnchorArn(text: string): string {
  const arn = tryParseArn(text);
  const problem = arnProblem(text) ??
    (arn!.service !== "rolesanywhere" || !/^trust-anchor\/[A-Za-z0-9-]+$/.test(arn!.resource)
      ? "it is not a Roles Anywhere trust anchor"
      : !isRegionName(arn!.region)
      ? `region "${arn!.region}" is not a region like us-east-1`
      : !/^\d{12}$/.test(arn!.account)
      ? `account "${arn!.account}" is not a 12-digit account ID`
      : undefined);
  if (problem) {
    fail(
      "InvalidSetting",
      `"${text}" is not a trust anchor ARN (${problem}): use arn:aws:rolesanywhere:REGION:ACCOUNT:trust-anchor/ID`,
    );
  }
  return text;
}

export interface PermissionsPolicyOptions {
  readonly allow: readonly string[];
  /** Default "*": some actions (s3:ListAllMyBuckets, ec2:Describe*) only take "*". */
  readonly resources?: readonly string[];
}

export function permissionsPolicy(options: PermissionsPolicyOptions): PolicyDocument {
  if (options.allow.length === 0) fail("InvalidSetting", "give at least one --allow ACTION");
  const actions = options.allow.map(checkAction);
  const resources = (options.resources?.length ? options.resources : ["*"]).map(checkResource);
  return {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Action: actions.length === 1 ? actions[0] : actions,
      Resource: resources.length === 1 ? resources[0] : resources,
    }],
  };
}
