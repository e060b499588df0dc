/**
 * IAM policy evaluation, the parts the emulator needs: an explicit Deny wins over any Allow,
 * an Allow is needed, and everything else is an implicit deny. Action/Resource wildcards,
 * NotAction/NotResource, Principal matching for trust policies, and the string, ARN, numeric,
 * date, boolean, IP address and null condition operators with IfExists and
 * ForAnyValue/ForAllValues. A key the request context lacks behaves as IAM documents it
 * (reference_policies_elements_condition_operators.html): the condition is false, except for
 * negated operators (true), ...IfExists (true) and Null (which tests exactly that). Pure: the
 * request context, time and request facts included, is an argument.
 *
 * @example
 * ```ts
 * import { parsePolicy } from "./document.ts";
 *
 * const policy = parsePolicy({ Version: "2012-10-17", Statement: { Effect: "Allow", Action: "s3:List*", Resource: "*" } });
 * evaluate([policy], { action: "s3:ListAllMyBuckets", resource: "*", keys: {} }); // "Allow"
 * ```
 */
import type { ConditionBlock, Policy, Statement } from "./document.ts";

export interface RequestContext {
  readonly action: string;
  readonly resource: string;
  /** For trust policies: who is asking, e.g. { Service: "rolesanywhere.amazonaws.com" }. */
  readonly principal?: Readonly<Record<string, string>>;
  /** Condition keys (matched case-insensitively) to their values. */
  readonly keys: Readonly<Record<string, string | readonly string[]>>;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

/** `*` any run, `?` one character; `caseInsensitive` for actions. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, caseInsensitive ? "is" : "s").test(value);
}

function matchesAction(statement: Statement, action: string): boolean {
  if (statement.actions) return statement.actions.some((pattern) => wildcardMatch(pattern, action, true));
  return !statement.notActions!.some((pattern) => wildcardMatch(pattern, action, true));
}

/**
 * Trust policies have no Resource (the role is the resource). Identity and session policies must
 * have one ("Statements must include either a Resource or a NotResource element",
 * reference_policies_elements_resource.html); IAM refuses a policy without it, and a statement
 * without one never applies here, so a document stored before that check cannot allow everything.
 */
function matchesResource(statement: Statement, context: RequestContext): boolean {
  if (statement.resources) return statement.resources.some((pattern) => wildcardMatch(pattern, context.resource));
  if (statement.notResources) {
    return !statement.notResources.some((pattern) => wildcardMatch(pattern, context.resource));
  }
  return context.principal !== undefined;
}

function matchesPrincipal(statement: Statement, principal: Readonly<Record<string, string>> | undefined): boolean {
  if (!statement.principals) return principal === undefined;
  if (!principal) return true;
  if (statement.principals["*"]?.includes("*")) return true;
  return Object.entries(principal).some(([type, value]) =>
    (statement.principals![type] ?? []).some((pattern) => pattern === "*" || pattern === value)
  );
}

function lookup(keys: RequestContext["keys"], name: string): readonly string[] | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(keys)) {
    if (key.toLowerCase() === wanted) return typeof value === "string" ? [value] : value;
  }
  return undefined;
}

type Matcher = (actual: string, expected: string) => boolean;

const MATCHERS: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (a, e) => a === e, negated: false },
  StringNotEquals: { match: (a, e) => a === e, negated: true },
  StringEqualsIgnoreCase: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: true },
  StringLike: { match: (a, e) => wildcardMatch(e, a), negated: false },
  StringNotLike: { match: (a, e) => wildcardMatch(e, a), negated: true },
  ArnEquals: { match: (a, e) => arnMatch(e, a), negated: false },
  ArnLike: { match: (a, e) => arnMatch(e, a), negated: false },
  ArnNotEquals: { match: (a, e) => arnMatch(e, a), negated: true },
  ArnNotLike: { match: (a, e) => arnMatch(e, a), negated: true },
  Bool: { match: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false },
  NumericEquals: { match: numeric((a, e) => a === e), negated: false },
  NumericNotEquals: { match: numeric((a, e) => a === e), negated: true },
  NumericLessThan: { match: numeric((a, e) => a < e), negated: false },
  NumericLessThanEquals: { match: numeric((a, e) => a <= e), negated: false },
  NumericGreaterThan: { match: numeric((a, e) => a > e), negated: false },
  NumericGreaterThanEquals: { match: numeric((a, e) => a >= e), negated: false },
  DateEquals: { match: date((a, e) => a === e), negated: false },
  DateNotEquals: { match: date((a, e) => a === e), negated: true },
  DateLessThan: { match: date((a, e) => a < e), negated: false },
  DateLessThanEquals: { match: date((a, e) => a <= e), negated: false },
  DateGreaterThan: { match: date((a, e) => a > e), negated: false },
  DateGreaterThanEquals: { match: date((a, e) => a >= e), negated: false },
  IpAddress: { match: (a, e) => inCidr(a, e), negated: false },
  NotIpAddress: { match: (a, e) => inCidr(a, e), negated: true },
};

/** An IPv4 or IPv6 address as a bigint and its width, or undefined. */
function ipBits(text: string): { value: bigint; width: 32 | 128 } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split(".").map(Number);
    if (parts.some((part) => part > 255)) return undefined;
    return { value: parts.reduce((sum, part) => (sum << 8n) | BigInt(part), 0n), width: 32 };
  }
  if (!/^[0-9a-f:.]+$/i.test(text) || !text.includes(":")) return undefined;
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return undefined;
  const groups = (part: string | undefined) => part ? part.split(":") : [];
  const expand = (list: string[]) =>
    list.flatMap((group) => {
      const v4 = ipBits(group);
      if (v4?.width === 32) return [Number(v4.value >> 16n), Number(v4.value & 0xffffn)].map((n) => n.toString(16));
      return [group];
    });
  const left = expand(groups(head));
  const right = expand(groups(tail));
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array(tail === undefined ? 0 : missing).fill("0"), ...right];
  if (all.some((group) => !/^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  return { value: all.reduce((sum, group) => (sum << 16n) | BigInt(parseInt(group, 16)), 0n), width: 128 };
}

/** IAM's IP address operators: CIDR ranges, a bare address meaning /32 (or /128 for IPv6). */
function inCidr(address: string, range: string): boolean {
  const [network, prefixText] = range.split("/");
  const actual = ipBits(address.replace(/^::ffff:(?=\d+\.)/i, ""));
  const wanted = ipBits(network);
  if (!actual || !wanted || actual.width !== wanted.width) return false;
  const prefix = prefixText === undefined ? wanted.width : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? "0") || prefix > wanted.width) return false;
  const shift = BigInt(wanted.width - prefix);
  return (actual.value >> shift) === (wanted.value >> shift);
}

/** Values that are not numbers never match (as in IAM). */
function numeric(compare: (actual: number, expected: number) => boolean): Matcher {
  return (a, e) => {
    const [actual, expected] = [Number(a), Number(e)];
    return a.trim() !== "" && e.trim() !== "" && !Number.isNaN(actual) && !Number.isNaN(expected) &&
      compare(actual, expected);
  };
}

/** ISO 8601 dates or epoch seconds, compared as instants. */
function date(compare: (actual: number, expected: number) => boolean): Matcher {
  const instant = (text: string) => /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  return (a, e) => {
    const [actual, expected] = [instant(a), instant(e)];
    return !Number.isNaN(actual) && !Number.isNaN(expected) && compare(actual, expected);
  };
}

/** Whether the evaluator knows a condition operator (with its IfExists / ForAnyValue: / ForAllValues: forms). */
export function isSupportedOperator(operator: string): boolean {
  const base = operator.replace(/^(ForAnyValue|ForAllValues):/, "").replace(/IfExists$/, "");
  return base === "Null" || Object.hasOwn(MATCHERS, base);
}

/** ARN operators compare the six colon-separated parts one by one, each with wildcards. */
function arnMatch(pattern: string, arn: string): boolean {
  const p = pattern.split(":");
  const a = arn.split(":");
  if (p.length < 6 || a.length < 6) return false;
  const head = (parts: string[]) => [...parts.slice(0, 5), parts.slice(5).join(":")];
  return head(p).every((part, index) => wildcardMatch(part, head(a)[index]));
}

export class UnsupportedConditionError extends Error {}

function conditionHolds(
  operatorText: string,
  key: string,
  expected: readonly string[],
  keys: RequestContext["keys"],
): boolean {
  let operator = operatorText;
  let setMode: "any" | "all" | undefined;
  if (operator.startsWith("ForAnyValue:")) [setMode, operator] = ["any", operator.slice(12)];
  else if (operator.startsWith("ForAllValues:")) [setMode, operator] = ["all", operator.slice(13)];
  const ifExists = operator.endsWith("IfExists");
  if (ifExists) operator = operator.slice(0, -8);
  const actual = lookup(keys, key);
  if (operator === "Null") {
    const wantsAbsent = expected.some((value) => value.toLowerCase() === "true");
    return wantsAbsent === (actual === undefined || actual.length === 0);
  }
  const matcher = Object.hasOwn(MATCHERS, operator) ? MATCHERS[operator] : undefined;
  if (!matcher) {
    throw new UnsupportedConditionError(`condition operator ${operatorText} is not supported by the emulator`);
  }
  if (actual === undefined || actual.length === 0) {
    if (ifExists || setMode === "all") return true;
    return matcher.negated && setMode === undefined;
  }
  const valueMatches = (value: string) => {
    const hit = expected.some((candidate) => matcher.match(value, candidate));
    return matcher.negated ? !hit : hit;
  };
  if (setMode === "all") return actual.every(valueMatches);
  if (setMode === "any") return actual.some(valueMatches);
  // Single-valued key: for negated operators every expected value must miss.
  return matcher.negated ? actual.every(valueMatches) : actual.some(valueMatches);
}

/** All operators and all keys in the block hold (values within one key are OR-ed). */
export function conditionsHold(block: ConditionBlock, keys: RequestContext["keys"]): boolean {
  return Object.entries(block).every(([operator, entries]) =>
    Object.entries(entries).every(([key, expected]) => conditionHolds(operator, key, expected, keys))
  );
}

export function statementApplies(statement: Statement, context: RequestContext): boolean {
  return matchesAction(statement, context.action) &&
    matchesResource(statement, context) &&
    matchesPrincipal(statement, context.principal) &&
    conditionsHold(statement.conditions, context.keys);
}

export function evaluate(policies: readonly Policy[], context: RequestContext): Decision {
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.statements) {
      if (!statementApplies(statement, context)) continue;
      if (statement.effect === "Deny") return "ExplicitDeny";
      allowed = true;
    }
  }
  return allowed ? "Allow" : "ImplicitDeny";
}

/**
 * Session permissions: the identity policies allow it, and when a session policy is present it
 * allows it too; an explicit Deny in either wins.
 */
export function evaluateSession(
  identityPolicies: readonly Policy[],
  sessionPolicy: Policy | undefined,
  context: RequestContext,
): Decision {
  const identity = evaluate(identityPolicies, context);
  if (!sessionPolicy || identity === "ExplicitDeny") return identity;
  const session = evaluate([sessionPolicy], context);
  if (session === "ExplicitDeny") return session;
  return identity === "Allow" && session === "Allow" ? "Allow" : "ImplicitDeny";
}
