/**
 * IAM for the walkthrough, in the Query protocol with XML answers like iam.amazonaws.com:
 * CreateRole, GetRole, ListRoles, DeleteRole, UpdateAssumeRolePolicy, PutRolePolicy,
 * GetRolePolicy, ListRolePolicies, DeleteRolePolicy. Policy documents go out URL-encoded, as
 * IAM returns them (botocore decodes them, the JavaScript SDK leaves that to the caller).
 * Administrator keys may do anything; session credentials need an Allow for iam:<Action>.
 */
import { type Caller, isAllowed, notAuthorized } from "./caller.ts";
import { Fault } from "./fault.ts";
import { page } from "./pagination.ts";
import { queryParameters, queryResponse, xml } from "./query_protocol.ts";
import {
  createRole,
  deleteRole,
  deleteRolePolicy,
  getRole,
  getRolePolicy,
  listRolePolicies,
  listRoles,
  putRolePolicy,
  updateAssumeRolePolicy,
} from "./resources.ts";
import type { ReceivedRequest } from "./sigv4_verify.ts";
import type { EmulatorState, Role } from "./state.ts";

export const IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";

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

function roleXml(role: Role): string {
  return xml("Path", role.path) +
    xml("AssumeRolePolicyDocument", encodeURIComponent(role.assumeRolePolicyDocument)) +
    xml("MaxSessionDuration", role.maxSessionDuration) +
    xml("RoleId", role.roleId) +
    xml("RoleName", role.roleName) +
    xml("Arn", role.arn) +
    xml("CreateDate", role.createDate) +
    xml("Description", role.description);
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
    run: (parameters, { state, now }) => {
      const role = createRole(state, {
        roleName: required(parameters, "RoleName"),
        assumeRolePolicyDocument: required(parameters, "AssumeRolePolicyDocument"),
        path: parameters.get("Path") ?? undefined,
        description: parameters.get("Description") ?? undefined,
        maxSessionDuration: integer(parameters, "MaxSessionDuration"),
      }, now);
      return `<Role>${roleXml(role)}</Role>`;
    },
  },
  GetRole: {
    mutates: false,
    roleName: byRoleName,
    run: (parameters, { state }) => `<Role>${roleXml(getRole(state, required(parameters, "RoleName")))}</Role>`,
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
  const resource = roleName === undefined
    ? "*"
    : state.roles[roleName]?.arn ?? `arn:aws:iam::${state.accountId}:role${parameters.get("Path") ?? "/"}${roleName}`;
  if (!isAllowed(caller, `iam:${action}`, resource, state)) {
    throw new Fault(403, "AccessDenied", notAuthorized(caller, `iam:${action}`, resource));
  }
  const result = operation.run(parameters, context);
  if (operation.mutates) context.mutated();
  return queryResponse(action, IAM_NAMESPACE, result, context.requestId);
}
