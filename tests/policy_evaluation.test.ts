/**
 * IAM policy evaluation (cli/emulator/policy/evaluate.ts): an explicit Deny beats any Allow, an Allow is
 * needed, everything else is an implicit deny; Action and Resource wildcards, NotAction and
 * NotResource, and statements without either (which allow nothing); every condition operator
 * the emulator supports, IP address ones included, with present, missing and multi-valued keys,
 * IfExists, negation and the set operators; trust-policy principals; and a session policy that can
 * only narrow what the identity policies allow.
 */
import assert from "node:assert/strict";
import { parsePolicy } from "../cli/emulator/policy/document.ts";
import {
  evaluate,
  evaluateSession,
  isSupportedOperator,
  type RequestContext,
  wildcardMatch,
} from "../cli/emulator/policy/evaluate.ts";

function policy(...statements: Record<string, unknown>[]) {
  return parsePolicy({ Version: "2012-10-17", Statement: statements });
}

const allow = (action: unknown, resource: unknown = "*", extra: Record<string, unknown> = {}) => ({
  Effect: "Allow",
  Action: action,
  Resource: resource,
  ...extra,
});

function request(action: string, resource = "*", keys: RequestContext["keys"] = {}): RequestContext {
  return { action, resource, keys };
}

Deno.test("an explicit Deny wins over an Allow, in the same policy or another", () => {
  const allowAll = policy(allow("s3:*"));
  const denyList = policy({ Effect: "Deny", Action: "s3:ListAllMyBuckets", Resource: "*" });
  assert.equal(evaluate([allowAll], request("s3:ListAllMyBuckets")), "Allow");
  assert.equal(evaluate([allowAll, denyList], request("s3:ListAllMyBuckets")), "ExplicitDeny");
  assert.equal(evaluate([denyList, allowAll], request("s3:ListAllMyBuckets")), "ExplicitDeny");
  assert.equal(evaluate([allowAll, denyList], request("s3:CreateBucket")), "Allow");
});

Deno.test("without a matching Allow the answer is an implicit deny", () => {
  assert.equal(evaluate([], request("s3:ListAllMyBuckets")), "ImplicitDeny");
  assert.equal(evaluate([policy(allow("s3:ListAllMyBuckets"))], request("ec2:DescribeInstances")), "ImplicitDeny");
});

Deno.test("Action wildcards: service:*, prefixes, ?, *, and actions compared case-insensitively", () => {
  const cases: [string, string, boolean][] = [
    ["s3:*", "s3:ListAllMyBuckets", true],
    ["s3:List*", "s3:ListAllMyBuckets", true],
    ["s3:List*", "s3:CreateBucket", false],
    ["ec2:Describe*", "ec2:DescribeInstances", true],
    ["s3:ListAllMyBucket?", "s3:ListAllMyBuckets", true],
    ["s3:ListAllMyBucket?", "s3:ListAllMyBucketsX", false],
    ["*", "iam:CreateRole", true],
    ["S3:LISTALLMYBUCKETS", "s3:ListAllMyBuckets", true],
    ["s3:*", "s3x:ListAllMyBuckets", false],
  ];
  for (const [pattern, action, expected] of cases) {
    assert.equal(evaluate([policy(allow(pattern))], request(action)) === "Allow", expected, `${pattern} vs ${action}`);
  }
  assert.equal(
    evaluate([policy(allow(["ec2:Describe*", "s3:ListAllMyBuckets"]))], request("s3:ListAllMyBuckets")),
    "Allow",
  );
});

Deno.test("Resource wildcards are case-sensitive and match whole ARNs", () => {
  const bucketObjects = policy(allow("s3:GetObject", "arn:aws:s3:::my-bucket/*"));
  assert.equal(evaluate([bucketObjects], request("s3:GetObject", "arn:aws:s3:::my-bucket/a/b.txt")), "Allow");
  assert.equal(evaluate([bucketObjects], request("s3:GetObject", "arn:aws:s3:::my-bucket")), "ImplicitDeny");
  assert.equal(evaluate([bucketObjects], request("s3:GetObject", "arn:aws:s3:::MY-BUCKET/a")), "ImplicitDeny");
  assert.equal(evaluate([bucketObjects], request("s3:GetObject", "arn:aws:s3:::my-bucket-2/a")), "ImplicitDeny");
  const roles = policy(allow("iam:GetRole", "arn:aws:iam::123456789012:role/app-?"));
  assert.equal(evaluate([roles], request("iam:GetRole", "arn:aws:iam::123456789012:role/app-1")), "Allow");
  assert.equal(evaluate([roles], request("iam:GetRole", "arn:aws:iam::123456789012:role/app-10")), "ImplicitDeny");
  // Regular-expression characters in a pattern are literal.
  const dotted = policy(allow("s3:CreateBucket", "arn:aws:s3:::a.b"));
  assert.equal(evaluate([dotted], request("s3:CreateBucket", "arn:aws:s3:::axb")), "ImplicitDeny");
  assert.equal(wildcardMatch("a+b(c)", "a+b(c)"), true);
});

Deno.test("NotAction allows everything but the listed actions; NotResource everything but the listed resources", () => {
  const allButIam = policy({ Effect: "Allow", NotAction: "iam:*", Resource: "*" });
  assert.equal(evaluate([allButIam], request("s3:ListAllMyBuckets")), "Allow");
  assert.equal(evaluate([allButIam], request("iam:CreateRole")), "ImplicitDeny");
  const denyAllButList = policy(allow("*"), { Effect: "Deny", NotAction: ["s3:List*"], Resource: "*" });
  assert.equal(evaluate([denyAllButList], request("s3:ListAllMyBuckets")), "Allow");
  assert.equal(evaluate([denyAllButList], request("ec2:DescribeInstances")), "ExplicitDeny");
  const notSecret = policy({ Effect: "Allow", Action: "s3:GetObject", NotResource: "arn:aws:s3:::secret/*" });
  assert.equal(evaluate([notSecret], request("s3:GetObject", "arn:aws:s3:::public/x")), "Allow");
  assert.equal(evaluate([notSecret], request("s3:GetObject", "arn:aws:s3:::secret/x")), "ImplicitDeny");
});

/** Whether a one-statement Allow with this Condition allows a request carrying `keys`. */
function holds(condition: Record<string, unknown>, keys: RequestContext["keys"]): boolean {
  return evaluate(
    [policy(allow("s3:ListAllMyBuckets", "*", { Condition: condition }))],
    request("s3:ListAllMyBuckets", "*", keys),
  ) ===
    "Allow";
}

const CN = "aws:PrincipalTag/x509Subject/CN";

Deno.test("string operators: equals, not-equals, ignore-case, like, not-like", () => {
  assert.equal(holds({ StringEquals: { [CN]: "myContainer" } }, { [CN]: "myContainer" }), true);
  assert.equal(holds({ StringEquals: { [CN]: "myContainer" } }, { [CN]: "mycontainer" }), false);
  assert.equal(holds({ StringEquals: { [CN]: ["a", "myContainer"] } }, { [CN]: "myContainer" }), true, "values OR");
  assert.equal(holds({ StringNotEquals: { [CN]: "myContainer" } }, { [CN]: "other" }), true);
  assert.equal(holds({ StringNotEquals: { [CN]: "myContainer" } }, { [CN]: "myContainer" }), false);
  assert.equal(
    holds({ StringNotEquals: { [CN]: ["a", "b"] } }, { [CN]: "a" }),
    false,
    "negated: every value must miss",
  );
  assert.equal(holds({ StringEqualsIgnoreCase: { [CN]: "MYCONTAINER" } }, { [CN]: "myContainer" }), true);
  assert.equal(holds({ StringNotEqualsIgnoreCase: { [CN]: "MYCONTAINER" } }, { [CN]: "myContainer" }), false);
  assert.equal(holds({ StringLike: { [CN]: "my*" } }, { [CN]: "myContainer" }), true);
  assert.equal(holds({ StringLike: { [CN]: "my?ontainer" } }, { [CN]: "myContainer" }), true);
  assert.equal(holds({ StringLike: { [CN]: "your*" } }, { [CN]: "myContainer" }), false);
  assert.equal(holds({ StringNotLike: { [CN]: "your*" } }, { [CN]: "myContainer" }), true);
  assert.equal(holds({ StringNotLike: { [CN]: "my*" } }, { [CN]: "myContainer" }), false);
});

Deno.test("condition keys are matched case-insensitively, values are not", () => {
  assert.equal(
    holds({ StringEquals: { "AWS:principaltag/x509subject/cn": "myContainer" } }, { [CN]: "myContainer" }),
    true,
  );
});

Deno.test("a missing key: positive operators fail, negated ones hold, IfExists holds, Null tells", () => {
  assert.equal(holds({ BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } }, {}), true);
  assert.equal(holds({ DateLessThan: { "aws:TokenIssueTime": "2030-01-01T00:00:00Z" } }, {}), false);
  assert.equal(holds({ NumericNotEquals: { "s3:max-keys": "10" } }, {}), true);
  assert.equal(holds({ ArnNotLike: { "aws:SourceArn": "arn:aws:*" } }, {}), true);
  assert.equal(holds({ StringNotEqualsIfExists: { [CN]: "x" } }, {}), true);
  assert.equal(holds({ StringEquals: { [CN]: "myContainer" } }, {}), false);
  assert.equal(holds({ StringLike: { [CN]: "*" } }, {}), false);
  assert.equal(holds({ ArnEquals: { "aws:SourceArn": "arn:aws:rolesanywhere:*" } }, {}), false);
  assert.equal(holds({ Bool: { "aws:SecureTransport": "true" } }, {}), false);
  assert.equal(holds({ StringNotEquals: { [CN]: "myContainer" } }, {}), true);
  assert.equal(holds({ StringNotLike: { [CN]: "my*" } }, {}), true);
  assert.equal(holds({ StringEqualsIfExists: { [CN]: "myContainer" } }, {}), true);
  assert.equal(holds({ StringEqualsIfExists: { [CN]: "myContainer" } }, { [CN]: "other" }), false);
  assert.equal(holds({ StringEqualsIfExists: { [CN]: "myContainer" } }, { [CN]: "myContainer" }), true);
  assert.equal(holds({ Null: { [CN]: "true" } }, {}), true);
  assert.equal(holds({ Null: { [CN]: "true" } }, { [CN]: "x" }), false);
  assert.equal(holds({ Null: { [CN]: "false" } }, { [CN]: "x" }), true);
  assert.equal(holds({ Null: { [CN]: "false" } }, {}), false);
});

Deno.test("ARN operators compare each ARN part with wildcards; negated forms", () => {
  const anchor = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/abc";
  assert.equal(holds({ ArnEquals: { "aws:SourceArn": anchor } }, { "aws:SourceArn": anchor }), true);
  assert.equal(holds({ ArnEquals: { "aws:SourceArn": anchor } }, { "aws:SourceArn": `${anchor}d` }), false);
  assert.equal(
    holds({ ArnLike: { "aws:SourceArn": "arn:aws:rolesanywhere:*:123456789012:trust-anchor/*" } }, {
      "aws:SourceArn": anchor,
    }),
    true,
  );
  assert.equal(
    holds({ ArnLike: { "aws:SourceArn": "arn:aws:rolesanywhere:*:999999999999:trust-anchor/*" } }, {
      "aws:SourceArn": anchor,
    }),
    false,
  );
  assert.equal(holds({ ArnLike: { "aws:SourceArn": "arn:aws:rolesanywhere" } }, { "aws:SourceArn": anchor }), false);
  assert.equal(holds({ ArnNotEquals: { "aws:SourceArn": anchor } }, { "aws:SourceArn": anchor }), false);
  assert.equal(holds({ ArnNotLike: { "aws:SourceArn": "arn:aws:iam::*:*" } }, { "aws:SourceArn": anchor }), true);
});

Deno.test("Bool, numeric and date operators", () => {
  assert.equal(holds({ Bool: { "aws:SecureTransport": "true" } }, { "aws:SecureTransport": "TRUE" }), true);
  assert.equal(holds({ Bool: { "aws:SecureTransport": "true" } }, { "aws:SecureTransport": "false" }), false);
  assert.equal(holds({ NumericLessThan: { "s3:max-keys": "10" } }, { "s3:max-keys": "9" }), true);
  assert.equal(holds({ NumericLessThan: { "s3:max-keys": "10" } }, { "s3:max-keys": "10" }), false);
  assert.equal(holds({ NumericLessThanEquals: { "s3:max-keys": "10" } }, { "s3:max-keys": "10" }), true);
  assert.equal(holds({ NumericGreaterThan: { "s3:max-keys": "10" } }, { "s3:max-keys": "11" }), true);
  assert.equal(holds({ NumericGreaterThanEquals: { "s3:max-keys": "10" } }, { "s3:max-keys": "9" }), false);
  assert.equal(holds({ NumericEquals: { "s3:max-keys": "10" } }, { "s3:max-keys": "ten" }), false);
  assert.equal(holds({ NumericNotEquals: { "s3:max-keys": "10" } }, { "s3:max-keys": "11" }), true);
  const now = "2024-06-01T12:00:00Z";
  assert.equal(
    holds({ DateLessThan: { "aws:CurrentTime": "2025-01-01T00:00:00Z" } }, { "aws:CurrentTime": now }),
    true,
  );
  assert.equal(
    holds({ DateGreaterThan: { "aws:CurrentTime": "2025-01-01T00:00:00Z" } }, { "aws:CurrentTime": now }),
    false,
  );
  assert.equal(holds({ DateEquals: { "aws:EpochTime": "1717243200" } }, { "aws:EpochTime": now }), true);
  assert.equal(holds({ DateNotEquals: { "aws:CurrentTime": now } }, { "aws:CurrentTime": now }), false);
});

Deno.test("several operators and several keys must all hold", () => {
  const condition = {
    StringEquals: { [CN]: "myContainer", "aws:PrincipalTag/x509Subject/O": "Example" },
    ArnLike: { "aws:SourceArn": "arn:aws:rolesanywhere:*:*:trust-anchor/*" },
  };
  const keys = {
    [CN]: "myContainer",
    "aws:PrincipalTag/x509Subject/O": "Example",
    "aws:SourceArn": "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/x",
  };
  assert.equal(holds(condition, keys), true);
  assert.equal(holds(condition, { ...keys, "aws:PrincipalTag/x509Subject/O": "Other" }), false);
  assert.equal(holds(condition, { ...keys, "aws:SourceArn": "arn:aws:iam::123456789012:role/x" }), false);
});

Deno.test("multi-valued keys: ForAnyValue needs one match, ForAllValues needs every value to match", () => {
  const tags = { "aws:TagKeys": ["team", "env"] };
  assert.equal(holds({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["env"] } }, tags), true);
  assert.equal(holds({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["cost"] } }, tags), false);
  assert.equal(holds({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team", "env", "cost"] } }, tags), true);
  assert.equal(holds({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team"] } }, tags), false);
  assert.equal(holds({ "ForAllValues:StringEquals": { "aws:TagKeys": ["team"] } }, {}), true, "vacuously true");
  assert.equal(holds({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["team"] } }, {}), false);
});

Deno.test("unsupported condition operators are named, not silently ignored", () => {
  assert.equal(isSupportedOperator("StringEqualsIfExists"), true);
  assert.equal(isSupportedOperator("ForAnyValue:StringLike"), true);
  assert.equal(isSupportedOperator("NumericLessThanEqualsIfExists"), true);
  assert.equal(isSupportedOperator("NotIpAddressIfExists"), true);
  assert.equal(isSupportedOperator("BinaryEquals"), false);
  assert.equal(isSupportedOperator("toString"), false);
  assert.throws(() => holds({ BinaryEquals: { "s3:x": "QUJD" } }, { "s3:x": "QUJD" }), /BinaryEquals/);
});

Deno.test("IP address operators: CIDR ranges and bare addresses, IPv4 and IPv6; a missing key", () => {
  const ip = "aws:SourceIp";
  assert.equal(holds({ IpAddress: { [ip]: "203.0.113.0/24" } }, { [ip]: "203.0.113.77" }), true);
  assert.equal(holds({ IpAddress: { [ip]: "203.0.113.0/24" } }, { [ip]: "203.0.114.1" }), false);
  assert.equal(holds({ IpAddress: { [ip]: "203.0.113.7" } }, { [ip]: "203.0.113.7" }), true, "a bare address is /32");
  assert.equal(holds({ IpAddress: { [ip]: "203.0.113.7" } }, { [ip]: "203.0.113.8" }), false);
  assert.equal(holds({ IpAddress: { [ip]: "0.0.0.0/0" } }, { [ip]: "198.51.100.1" }), true);
  assert.equal(
    holds({ IpAddress: { [ip]: ["10.0.0.0/8", "2001:DB8:1234:5678::/64"] } }, { [ip]: "2001:db8:1234:5678::9" }),
    true,
  );
  assert.equal(holds({ IpAddress: { [ip]: "2001:db8:1234:5678::/64" } }, { [ip]: "2001:db8:1234:5679::1" }), false);
  assert.equal(holds({ IpAddress: { [ip]: "::1" } }, { [ip]: "::1" }), true);
  assert.equal(holds({ IpAddress: { [ip]: "127.0.0.0/8" } }, { [ip]: "::ffff:127.0.0.1" }), true, "IPv4-mapped");
  assert.equal(holds({ IpAddress: { [ip]: "10.0.0.0/8" } }, { [ip]: "::1" }), false, "families never match");
  assert.equal(holds({ IpAddress: { [ip]: "not-an-address" } }, { [ip]: "10.0.0.1" }), false);
  assert.equal(holds({ NotIpAddress: { [ip]: "10.0.0.0/8" } }, { [ip]: "192.0.2.1" }), true);
  assert.equal(holds({ NotIpAddress: { [ip]: ["10.0.0.0/8", "192.0.2.0/24"] } }, { [ip]: "192.0.2.1" }), false);
  assert.equal(holds({ IpAddress: { [ip]: "10.0.0.0/8" } }, {}), false, "missing: positive fails");
  assert.equal(holds({ NotIpAddress: { [ip]: "10.0.0.0/8" } }, {}), true, "missing: negated holds");
  assert.equal(holds({ IpAddressIfExists: { [ip]: "10.0.0.0/8" } }, {}), true, "missing: IfExists holds");
});

Deno.test("a statement without Resource or NotResource allows nothing in a permissions or session policy", () => {
  const noResource = parsePolicy({ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "*" } });
  assert.equal(evaluate([noResource], request("s3:ListAllMyBuckets")), "ImplicitDeny");
  assert.equal(evaluate([noResource], request("iam:CreateRole", "arn:aws:iam::1:role/admin")), "ImplicitDeny");
  const identity = [policy(allow("s3:ListAllMyBuckets"))];
  assert.equal(evaluateSession(identity, noResource, request("s3:ListAllMyBuckets")), "ImplicitDeny");
  const denyWithout = parsePolicy({ Version: "2012-10-17", Statement: { Effect: "Deny", Action: "*" } });
  assert.equal(evaluate([...identity, denyWithout], request("s3:ListAllMyBuckets")), "Allow");
});

Deno.test("trust-policy principals: the service must be the one named", () => {
  const trust = parsePolicy({
    Version: "2012-10-17",
    Statement: { Effect: "Allow", Principal: { Service: "rolesanywhere.amazonaws.com" }, Action: "sts:AssumeRole" },
  });
  const as = (service: string) =>
    evaluate([trust], {
      action: "sts:AssumeRole",
      resource: "arn:aws:iam::1:role/r",
      principal: { Service: service },
      keys: {},
    });
  assert.equal(as("rolesanywhere.amazonaws.com"), "Allow");
  assert.equal(as("ec2.amazonaws.com"), "ImplicitDeny");
  assert.equal(
    evaluate([trust], {
      action: "sts:AssumeRole",
      resource: "r",
      principal: { AWS: "rolesanywhere.amazonaws.com" },
      keys: {},
    }),
    "ImplicitDeny",
    "the principal type matters",
  );
});

Deno.test("a session policy only narrows: both must allow, a Deny in either wins", () => {
  const identity = [policy(allow(["s3:ListAllMyBuckets", "s3:CreateBucket"]))];
  const listOnly = policy(allow("s3:ListAllMyBuckets"));
  const everything = policy(allow("*"));
  const denyList = policy(allow("*"), { Effect: "Deny", Action: "s3:ListAllMyBuckets", Resource: "*" });
  assert.equal(evaluateSession(identity, undefined, request("s3:CreateBucket")), "Allow");
  assert.equal(evaluateSession(identity, listOnly, request("s3:ListAllMyBuckets")), "Allow");
  assert.equal(evaluateSession(identity, listOnly, request("s3:CreateBucket")), "ImplicitDeny");
  assert.equal(evaluateSession(identity, everything, request("ec2:DescribeInstances")), "ImplicitDeny", "cannot widen");
  assert.equal(evaluateSession(identity, denyList, request("s3:ListAllMyBuckets")), "ExplicitDeny");
  assert.equal(
    evaluateSession([policy({ Effect: "Deny", Action: "*", Resource: "*" })], everything, request("s3:X")),
    "ExplicitDeny",
  );
});
