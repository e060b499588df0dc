/**
 * IAM policy evaluation, the parts the emulator needs: an explicit Deny wins over any Allow,
 * an Allow is needed, and everything else is an implicit deny. Action/Resource wildcards,
 * NotAction/NotResource, Principal matching for trust policies, and the string, ARN, numeric,
 * date, boolean and null condition operators with IfExists and ForAnyValue/ForAllValues. Pure.
 *
 * @example
 * ```ts
 * evaluate([parsePolicy(doc)], { action: "s3:ListAllMyBuckets", resource: "*", keys: {} }); // "Allow"
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

function matchesResource(statement: Statement, resource: string): boolean {
  if (statement.resources) return statement.resources.some((pattern) => wildcardMatch(pattern, resource));
  if (statement.notResources) return !statement.notResources.some((pattern) => wildcardMatch(pattern, resource));
  return true; // trust policies have no Resource
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
};

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
    matchesResource(statement, context.resource) &&
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
