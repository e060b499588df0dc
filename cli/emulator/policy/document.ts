/**
 * IAM policy documents: parsing and validating the JSON into statements with normalised
 * lists, so evaluation never has to guess between a string and an array. Pure.
 *
 * @example
 * ```ts
 * const policy = parsePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}');
 * policy.statements[0].actions; // ["s3:*"]
 * ```
 */

export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

export interface Statement {
  readonly sid?: string;
  readonly effect: "Allow" | "Deny";
  /** Exactly one of actions / notActions is set. */
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
  /** Trust policies: principal type (Service, AWS, Federated, *) to values. */
  readonly principals?: Readonly<Record<string, readonly string[]>>;
  readonly conditions: ConditionBlock;
}

export interface Policy {
  readonly version: string;
  readonly statements: readonly Statement[];
}

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

function list(value: unknown, what: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) {
    if (typeof item !== "string" && typeof item !== "number" && typeof item !== "boolean") {
      throw new PolicyError(`${what} must be a string or a list of strings`);
    }
  }
  return items.map(String);
}

function principals(value: unknown): Record<string, string[]> | undefined {
  if (value === undefined) return undefined;
  if (value === "*") return { "*": ["*"] };
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new PolicyError('Principal must be "*" or an object like {"Service": "rolesanywhere.amazonaws.com"}');
  }
  return Object.fromEntries(Object.entries(value).map(([type, values]) => [type, list(values, `Principal.${type}`)]));
}

function conditions(value: unknown): Record<string, Record<string, string[]>> {
  if (value === undefined) return {};
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new PolicyError("Condition must be an object");
  return Object.fromEntries(
    Object.entries(value).map(([operator, block]) => {
      if (!block || typeof block !== "object" || Array.isArray(block)) {
        throw new PolicyError(`Condition.${operator} must be an object of condition keys`);
      }
      return [
        operator,
        Object.fromEntries(
          Object.entries(block).map(([key, values]) => [key, list(values, `Condition.${operator}.${key}`)]),
        ),
      ];
    }),
  );
}

function statement(value: unknown, index: number): Statement {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new PolicyError(`Statement ${index + 1} is not an object`);
  }
  const raw = value as Record<string, unknown>;
  const where = `Statement ${raw.Sid ? `"${raw.Sid}"` : index + 1}`;
  if (raw.Effect !== "Allow" && raw.Effect !== "Deny") {
    throw new PolicyError(`${where}: Effect must be "Allow" or "Deny"`);
  }
  if ((raw.Action === undefined) === (raw.NotAction === undefined)) {
    throw new PolicyError(`${where}: needs exactly one of Action and NotAction`);
  }
  if (raw.Resource !== undefined && raw.NotResource !== undefined) {
    throw new PolicyError(`${where}: has both Resource and NotResource`);
  }
  return {
    sid: typeof raw.Sid === "string" ? raw.Sid : undefined,
    effect: raw.Effect,
    actions: raw.Action === undefined ? undefined : list(raw.Action, `${where} Action`),
    notActions: raw.NotAction === undefined ? undefined : list(raw.NotAction, `${where} NotAction`),
    resources: raw.Resource === undefined ? undefined : list(raw.Resource, `${where} Resource`),
    notResources: raw.NotResource === undefined ? undefined : list(raw.NotResource, `${where} NotResource`),
    principals: principals(raw.Principal),
    conditions: conditions(raw.Condition),
  };
}

/** Parses a policy document (JSON text or an already-parsed object). */
export function parsePolicy(input: string | unknown): Policy {
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch (error) {
      throw new PolicyError(`not valid JSON (${error instanceof Error ? error.message : error})`);
    }
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new PolicyError("a policy must be a JSON object");
  const document = raw as Record<string, unknown>;
  if (document.Statement === undefined) throw new PolicyError("the policy has no Statement");
  const version = typeof document.Version === "string" ? document.Version : "2008-10-17";
  if (version !== "2012-10-17" && version !== "2008-10-17") {
    throw new PolicyError(`Version "${version}" is not a policy language version (use 2012-10-17)`);
  }
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  return { version, statements: statements.map(statement) };
}
