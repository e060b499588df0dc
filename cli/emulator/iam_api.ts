/**
 * IAM for the walkthrough, in the Query protocol with XML answers like iam.amazonaws.com:
 * CreateRole, GetRole, ListRoles, DeleteRole, UpdateAssumeRolePolicy, PutRolePolicy,
 * GetRolePolicy, ListRolePolicies, DeleteRolePolicy, TagRole, UntagRole, ListRoleTags. Policy
 * documents go out URL-encoded, as IAM returns them (botocore decodes them, the JavaScript SDK
 * leaves that to the caller). A role's tags come with CreateRole and GetRole but not ListRoles
 * (which "does not return" them, says IAM's reference). Administrator keys may do anything;
 * session credentials need an Allow for iam:<Action>, and CreateRole with tags for iam:TagRole too.
 */
import { type Caller, isAllowed, notAuthorized } from "./caller.ts";
import { Fault, QUERY_NAMESPACES } from "./fault.ts";
import { page } from "./pagination.ts";
import { memberList, queryParameters, queryResponse, xml } from "./query_protocol.ts";
import {
  createRole,
  deleteRole,
  deleteRolePolicy,
  getRole,
  getRolePolicy,
  listRolePolicies,
  listRoles,
  putRolePolicy,
  roleTags,
  tagRole,
  untagRole,
  updateAssumeRolePolicy,
} from "./resources.ts";
import type { ReceivedRequest } from "./sigv4_verify.ts";
import { arnOf, type EmulatorState, type Role, type Tag } from "./state.ts";

export interface IamContext {
  readonly state: EmulatorState;
  readonly now: Date;
  readonly requestId: string;
  readonly caller: Caller;
  /** Called by operations that change state, so the server persists it. */
  readonly mutated: () => void;
}

interface Operation {
  readonly mutates: boolean;
  /** The role the call is about, for the authorization check. */
  readonly roleName: (parameters: URLSearchParams) => string | undefined;
  /** Actions the call needs besides its own (CreateRole with tags: iam:TagRole). */
  readonly alsoNeeds?: (parameters: URLSearchParams) => readonly string[];
  /** The XML inside <ActionResult>, or "" for operations without output. */
  readonly run: (parameters: URLSearchParams, context: IamContext) => string;
}

const invalidInput = (message: string) => new Fault(400, "ValidationError", message);

/** A required parameter, or IAM's validation error naming it. */
function required(parameters: URLSearchParams, name: string): string {
  const value = parameters.get(name);
  if (value === null) {
    const member = name[0].toLowerCase() + name.slice(1);
    throw invalidInput(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function integer(parameters: URLSearchParams, name: string): number | undefined {
  const value = parameters.get(name);
  if (value === null) return undefined;
  if (!/^\d+$/.test(value)) throw invalidInput(`${name} must be an integer, not "${value}"`);
  return Number(value);
}

/**
 * `Tags.member.N.Key` / `Tags.member.N.Value`, the Query protocol's list of Tag structures.
 * Both members are required, as in the model.
 */
function tagList(parameters: URLSearchParams, name: string): Tag[] {
  const tags: Tag[] = [];
  for (let i = 1;; i++) {
    const key = parameters.get(`${name}.member.${i}.Key`);
    const value = parameters.get(`${name}.member.${i}.Value`);
    if (key === null && value === null) return tags;
    for (const [member, given] of [["key", key], ["value", value]] as const) {
      if (given === null) {
        throw invalidInput(
          `1 validation error detected: Value null at '${name.toLowerCase()}.${i}.member.${member}' failed to satisfy constraint: Member must not be null`,
        );
      }
    }
    tags.push({ key: key!, value: value! });
  }
}

function tagsXml(tags: readonly Tag[]): string {
  return tags.map((tag) => `<member>${xml("Key", tag.key)}${xml("Value", tag.value)}</member>`).join("");
}

/** A role as IAM describes it; `withTags` for CreateRole and GetRole, not for ListRoles. */
function roleXml(role: Role, withTags = false): string {
  const tags = withTags && role.tags?.length ? `<Tags>${tagsXml(role.tags)}</Tags>` : "";
  return xml("Path", role.path) +
    xml("AssumeRolePolicyDocument", encodeURIComponent(role.assumeRolePolicyDocument)) +
    xml("MaxSessionDuration", role.maxSessionDuration) +
    xml("RoleId", role.roleId) +
    xml("RoleName", role.roleName) +
    xml("Arn", role.arn) +
    xml("CreateDate", role.createDate) +
    xml("Description", role.description) + tags;
}

function members(values: readonly string[]): string {
  return values.map((value) => xml("member", value)).join("");
}

function listPage<T>(items: readonly T[], parameters: URLSearchParams) {
  return page(items, parameters.get("Marker"), parameters.get("MaxItems"), { default: 100, max: 1000 }, invalidInput);
}

function pagingXml(next: string | undefined): string {
  return xml("IsTruncated", next !== undefined) + xml("Marker", next);
}

const byRoleName = (parameters: URLSearchParams) => parameters.get("RoleName") ?? undefined;

const OPERATIONS: Record<string, Operation> = {
  CreateRole: {
    mutates: true,
    roleName: byRoleName,
    alsoNeeds: (parameters) => tagList(parameters, "Tags").length > 0 ? ["iam:TagRole"] : [],
    run: (parameters, { state, now }) => {
      const role = createRole(state, {
        roleName: required(parameters, "RoleName"),
        assumeRolePolicyDocument: required(parameters, "AssumeRolePolicyDocument"),
        path: parameters.get("Path") ?? undefined,
        description: parameters.get("Description") ?? undefined,
        maxSessionDuration: integer(parameters, "MaxSessionDuration"),
        tags: tagList(parameters, "Tags"),
      }, now);
      return `<Role>${roleXml(role, true)}</Role>`;
    },
  },
  GetRole: {
    mutates: false,
    roleName: byRoleName,
    run: (parameters, { state }) => `<Role>${roleXml(getRole(state, required(parameters, "RoleName")), true)}</Role>`,
  },
  ListRoles: {
    mutates: false,
    roleName: () => undefined,
    run: (parameters, { state }) => {
      const { items, next } = listPage(listRoles(state, parameters.get("PathPrefix") ?? "/"), parameters);
      return `<Roles>${items.map((role) => `<member>${roleXml(role)}</member>`).join("")}</Roles>${pagingXml(next)}`;
    },
  },
  DeleteRole: {
    mutates: true,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      deleteRole(state, required(parameters, "RoleName"));
      return "";
    },
  },
  UpdateAssumeRolePolicy: {
    mutates: true,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      updateAssumeRolePolicy(state, required(parameters, "RoleName"), required(parameters, "PolicyDocument"));
      return "";
    },
  },
  PutRolePolicy: {
    mutates: true,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      putRolePolicy(
        state,
        required(parameters, "RoleName"),
        required(parameters, "PolicyName"),
        required(parameters, "PolicyDocument"),
      );
      return "";
    },
  },
  GetRolePolicy: {
    mutates: false,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      const roleName = required(parameters, "RoleName");
      const policyName = required(parameters, "PolicyName");
      const document = getRolePolicy(state, roleName, policyName);
      return xml("RoleName", roleName) + xml("PolicyName", policyName) +
        xml("PolicyDocument", encodeURIComponent(document));
    },
  },
  ListRolePolicies: {
    mutates: false,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      const { items, next } = listPage(listRolePolicies(state, required(parameters, "RoleName")), parameters);
      return `<PolicyNames>${members(items)}</PolicyNames>${pagingXml(next)}`;
    },
  },
  TagRole: {
    mutates: true,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      const roleName = required(parameters, "RoleName");
      const tags = tagList(parameters, "Tags");
      if (tags.length === 0) required(parameters, "Tags");
      tagRole(state, roleName, tags);
      return "";
    },
  },
  UntagRole: {
    mutates: true,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      const roleName = required(parameters, "RoleName");
      const keys = memberList(parameters, "TagKeys");
      if (keys.length === 0) required(parameters, "TagKeys");
      untagRole(state, roleName, keys);
      return "";
    },
  },
  ListRoleTags: {
    mutates: false,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      const { items, next } = listPage(roleTags(state, required(parameters, "RoleName")), parameters);
      return `<Tags>${tagsXml(items)}</Tags>${pagingXml(next)}`;
    },
  },
  DeleteRolePolicy: {
    mutates: true,
    roleName: byRoleName,
    run: (parameters, { state }) => {
      deleteRolePolicy(state, required(parameters, "RoleName"), required(parameters, "PolicyName"));
      return "";
    },
  },
};

export function handleIam(request: ReceivedRequest, context: IamContext): Response {
  const parameters = queryParameters(request);
  const action = parameters.get("Action") ?? "";
  const operation = Object.hasOwn(OPERATIONS, action) ? OPERATIONS[action] : undefined;
  if (!operation) {
    throw new Fault(400, "InvalidAction", `Could not find operation ${action} for version 2010-05-08`);
  }
  const { state, caller } = context;
  const roleName = operation.roleName(parameters);
  const resource = roleName === undefined ? "*" : state.roles[roleName]?.arn ??
    arnOf(state, "iam", `role${parameters.get("Path") ?? "/"}${roleName}`);
  for (const needed of [`iam:${action}`, ...operation.alsoNeeds?.(parameters) ?? []]) {
    if (!isAllowed(caller, needed, resource, state)) {
      throw new Fault(403, "AccessDenied", notAuthorized(caller, needed, resource));
    }
  }
  const result = operation.run(parameters, context);
  if (operation.mutates) context.mutated();
  return queryResponse(action, QUERY_NAMESPACES["iam-query"], result, context.requestId);
}
