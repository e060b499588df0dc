/**
 * The IAM Roles Anywhere control plane in REST-JSON, on the paths, status codes and shapes of
 * the service's API model (botocore's rolesanywhere/2018-05-10): trust anchors and profiles,
 * created (with tags), listed, read, updated, enabled, disabled and deleted, and their tags
 * (TagResource, UntagResource, ListTagsForResource; the details carry no tags, as in the
 * model). Administrator keys may do anything; session credentials need an Allow for
 * rolesanywhere:<Operation>.
 */
import { type Caller, isAllowed, notAuthorized } from "./caller.ts";
import { accessDenied, Fault, validation } from "./fault.ts";
import { page } from "./pagination.ts";
import {
  createProfile,
  createTrustAnchor,
  deleteProfile,
  deleteTrustAnchor,
  getProfile,
  getTrustAnchor,
  listProfiles,
  listTagsForResource,
  listTrustAnchors,
  setProfileEnabled,
  setTrustAnchorEnabled,
  tagResource,
  untagResource,
  updateProfile,
  updateTrustAnchor,
} from "./resources.ts";
import type { ReceivedRequest } from "./sigv4_verify.ts";
import { arnOf, type EmulatorState, type Profile, type Tag, type TrustAnchor } from "./state.ts";

export interface RolesAnywhereContext {
  readonly state: EmulatorState;
  readonly now: Date;
  readonly requestId: string;
  readonly caller: Caller;
  readonly mutated: () => void;
}

interface Call {
  readonly id: string;
  readonly body: Record<string, unknown>;
  readonly query: URLSearchParams;
  readonly context: RolesAnywhereContext;
}

interface Route {
  readonly method: string;
  /** Path with one `{id}` at most. */
  readonly path: RegExp;
  readonly operation: string;
  readonly status: number;
  readonly mutates: boolean;
  /** The resource ARN the permission is checked on. */
  readonly resource: (call: Call) => string;
  readonly run: (call: Call) => unknown;
}

const UUID = "([a-f0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12})";

/** What the API returns for a trust anchor: exactly the model's TrustAnchorDetail members. */
function anchorDetail(anchor: TrustAnchor) {
  return {
    createdAt: anchor.createdAt,
    enabled: anchor.enabled,
    name: anchor.name,
    source: anchor.source,
    trustAnchorArn: anchor.trustAnchorArn,
    trustAnchorId: anchor.trustAnchorId,
    updatedAt: anchor.updatedAt,
  };
}

function profileDetail(profile: Profile) {
  return {
    acceptRoleSessionName: profile.acceptRoleSessionName ?? false,
    createdAt: profile.createdAt,
    createdBy: profile.createdBy,
    durationSeconds: profile.durationSeconds,
    enabled: profile.enabled,
    managedPolicyArns: profile.managedPolicyArns,
    name: profile.name,
    profileArn: profile.profileArn,
    profileId: profile.profileId,
    requireInstanceProperties: profile.requireInstanceProperties,
    roleArns: profile.roleArns,
    ...(profile.sessionPolicy === undefined ? {} : { sessionPolicy: profile.sessionPolicy }),
    updatedAt: profile.updatedAt,
  };
}

/** A member of the JSON body checked against its type in the model. */
function member<T>(
  body: Record<string, unknown>,
  name: string,
  type: "string" | "boolean" | "number" | "array" | "object",
) {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  const actual = Array.isArray(value) ? "array" : typeof value;
  const ok = actual === type;
  if (!ok) throw validation(`${name} must be ${type === "array" ? "a list" : `a ${type}`}`);
  return value as T;
}

function requiredMember<T>(
  body: Record<string, unknown>,
  name: string,
  type: "string" | "boolean" | "number" | "array" | "object",
): T {
  const value = member<T>(body, name, type);
  if (value === undefined) throw validation(`${name} is required`);
  return value;
}

/** The model's TagList: objects with a string `key` and a string `value`, both required. */
function tagsMember(body: Record<string, unknown>, name: string, required = false): Tag[] | undefined {
  const list = required ? requiredMember<unknown[]>(body, name, "array") : member<unknown[]>(body, name, "array");
  return list?.map((item, index) => {
    const tag = item as Record<string, unknown> | null;
    if (!tag || typeof tag !== "object" || typeof tag.key !== "string" || typeof tag.value !== "string") {
      throw validation(`${name}[${index}] must have a string key and a string value`);
    }
    return { key: tag.key, value: tag.value };
  });
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  const list = requiredMember<unknown[]>(body, name, "array");
  if (!list.every((item) => typeof item === "string")) throw validation(`${name} must be a list of strings`);
  return list as string[];
}

function listPage<T>(items: readonly T[], query: URLSearchParams) {
  return page(items, query.get("nextToken"), query.get("pageSize"), { default: 50, max: 100 }, validation);
}

const anchorArn = ({ context: { state }, id }: Call) =>
  state.trustAnchors[id]?.trustAnchorArn ??
    arnOf(state, "rolesanywhere", `trust-anchor/${id}`);
const profileArn = ({ context: { state }, id }: Call) =>
  state.profiles[id]?.profileArn ??
    arnOf(state, "rolesanywhere", `profile/${id}`);
const anyAnchor = ({ context: { state } }: Call) => arnOf(state, "rolesanywhere", "trust-anchor/*");
const anyProfile = ({ context: { state } }: Call) => arnOf(state, "rolesanywhere", "profile/*");
/** TagResource and UntagResource name the resource in the body, ListTagsForResource in the query. */
const taggedArn = ({ body, query }: Call) => String(body.resourceArn ?? query.get("resourceArn") ?? "*");

const ROUTES: readonly Route[] = [
  {
    method: "POST",
    path: /^\/trustanchors$/,
    operation: "CreateTrustAnchor",
    status: 201,
    mutates: true,
    resource: anyAnchor,
    run: ({ body, context }) => ({
      trustAnchor: anchorDetail(createTrustAnchor(context.state, {
        name: requiredMember(body, "name", "string"),
        enabled: member(body, "enabled", "boolean"),
        source: requiredMember(body, "source", "object"),
        tags: tagsMember(body, "tags"),
      }, context.now)),
    }),
  },
  {
    method: "GET",
    path: /^\/trustanchors$/,
    operation: "ListTrustAnchors",
    status: 200,
    mutates: false,
    resource: anyAnchor,
    run: ({ query, context }) => {
      const { items, next } = listPage(listTrustAnchors(context.state), query);
      return { trustAnchors: items.map(anchorDetail), ...(next ? { nextToken: next } : {}) };
    },
  },
  {
    method: "GET",
    path: new RegExp(`^/trustanchor/${UUID}$`),
    operation: "GetTrustAnchor",
    status: 200,
    mutates: false,
    resource: anchorArn,
    run: ({ id, context }) => ({ trustAnchor: anchorDetail(getTrustAnchor(context.state, id)) }),
  },
  {
    method: "PATCH",
    path: new RegExp(`^/trustanchor/${UUID}$`),
    operation: "UpdateTrustAnchor",
    status: 200,
    mutates: true,
    resource: anchorArn,
    run: ({ id, body, context }) => ({
      trustAnchor: anchorDetail(updateTrustAnchor(context.state, id, {
        name: member(body, "name", "string"),
        source: member(body, "source", "object"),
      }, context.now)),
    }),
  },
  {
    method: "DELETE",
    path: new RegExp(`^/trustanchor/${UUID}$`),
    operation: "DeleteTrustAnchor",
    status: 200,
    mutates: true,
    resource: anchorArn,
    run: ({ id, context }) => ({ trustAnchor: anchorDetail(deleteTrustAnchor(context.state, id)) }),
  },
  {
    method: "POST",
    path: new RegExp(`^/trustanchor/${UUID}/enable$`),
    operation: "EnableTrustAnchor",
    status: 200,
    mutates: true,
    resource: anchorArn,
    run: ({ id, context }) => ({
      trustAnchor: anchorDetail(setTrustAnchorEnabled(context.state, id, true, context.now)),
    }),
  },
  {
    method: "POST",
    path: new RegExp(`^/trustanchor/${UUID}/disable$`),
    operation: "DisableTrustAnchor",
    status: 200,
    mutates: true,
    resource: anchorArn,
    run: ({ id, context }) => ({
      trustAnchor: anchorDetail(setTrustAnchorEnabled(context.state, id, false, context.now)),
    }),
  },
  {
    method: "POST",
    path: /^\/profiles$/,
    operation: "CreateProfile",
    status: 201,
    mutates: true,
    resource: anyProfile,
    run: ({ body, context }) => ({
      profile: profileDetail(createProfile(context.state, {
        name: requiredMember(body, "name", "string"),
        roleArns: requiredMember(body, "roleArns", "array"),
        enabled: member(body, "enabled", "boolean"),
        durationSeconds: member(body, "durationSeconds", "number"),
        sessionPolicy: member(body, "sessionPolicy", "string"),
        managedPolicyArns: member(body, "managedPolicyArns", "array"),
        requireInstanceProperties: member(body, "requireInstanceProperties", "boolean"),
        acceptRoleSessionName: member(body, "acceptRoleSessionName", "boolean"),
        tags: tagsMember(body, "tags"),
      }, context.now)),
    }),
  },
  {
    method: "GET",
    path: /^\/profiles$/,
    operation: "ListProfiles",
    status: 200,
    mutates: false,
    resource: anyProfile,
    run: ({ query, context }) => {
      const { items, next } = listPage(listProfiles(context.state), query);
      return { profiles: items.map(profileDetail), ...(next ? { nextToken: next } : {}) };
    },
  },
  {
    method: "GET",
    path: new RegExp(`^/profile/${UUID}$`),
    operation: "GetProfile",
    status: 200,
    mutates: false,
    resource: profileArn,
    run: ({ id, context }) => ({ profile: profileDetail(getProfile(context.state, id)) }),
  },
  {
    method: "PATCH",
    path: new RegExp(`^/profile/${UUID}$`),
    operation: "UpdateProfile",
    status: 200,
    mutates: true,
    resource: profileArn,
    run: ({ id, body, context }) => ({
      profile: profileDetail(updateProfile(context.state, id, {
        name: member(body, "name", "string"),
        roleArns: member(body, "roleArns", "array"),
        durationSeconds: member(body, "durationSeconds", "number"),
        sessionPolicy: member(body, "sessionPolicy", "string"),
        managedPolicyArns: member(body, "managedPolicyArns", "array"),
        acceptRoleSessionName: member(body, "acceptRoleSessionName", "boolean"),
      }, context.now)),
    }),
  },
  {
    method: "DELETE",
    path: new RegExp(`^/profile/${UUID}$`),
    operation: "DeleteProfile",
    status: 200,
    mutates: true,
    resource: profileArn,
    run: ({ id, context }) => ({ profile: profileDetail(deleteProfile(context.state, id)) }),
  },
  {
    method: "POST",
    path: new RegExp(`^/profile/${UUID}/enable$`),
    operation: "EnableProfile",
    status: 200,
    mutates: true,
    resource: profileArn,
    run: ({ id, context }) => ({ profile: profileDetail(setProfileEnabled(context.state, id, true, context.now)) }),
  },
  {
    method: "POST",
    path: new RegExp(`^/profile/${UUID}/disable$`),
    operation: "DisableProfile",
    status: 200,
    mutates: true,
    resource: profileArn,
    run: ({ id, context }) => ({ profile: profileDetail(setProfileEnabled(context.state, id, false, context.now)) }),
  },
  {
    method: "POST",
    path: /^\/TagResource$/,
    operation: "TagResource",
    status: 201,
    mutates: true,
    resource: taggedArn,
    run: ({ body, context }) => {
      tagResource(context.state, requiredMember(body, "resourceArn", "string"), tagsMember(body, "tags", true)!);
      return {};
    },
  },
  {
    method: "POST",
    path: /^\/UntagResource$/,
    operation: "UntagResource",
    status: 200,
    mutates: true,
    resource: taggedArn,
    run: ({ body, context }) => {
      untagResource(context.state, requiredMember(body, "resourceArn", "string"), stringList(body, "tagKeys"));
      return {};
    },
  },
  {
    method: "GET",
    path: /^\/ListTagsForResource$/,
    operation: "ListTagsForResource",
    status: 200,
    mutates: false,
    resource: taggedArn,
    run: ({ query, context }) => {
      const arn = query.get("resourceArn");
      if (arn === null) throw validation("resourceArn is required");
      return { tags: listTagsForResource(context.state, arn) };
    },
  },
];

function parseBody(request: ReceivedRequest): Record<string, unknown> {
  const text = new TextDecoder().decode(request.body);
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Fault(400, "SerializationException", "The request body is not valid JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new Fault(400, "SerializationException", "The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

export function handleRolesAnywhere(request: ReceivedRequest, context: RolesAnywhereContext): Response {
  const path = request.url.pathname;
  let id = "";
  const route = ROUTES.find((candidate) => {
    const match = candidate.method === request.method && path.match(candidate.path);
    if (match) id = match[1] ?? "";
    return Boolean(match);
  });
  if (!route) {
    const known = ROUTES.some((candidate) => candidate.path.test(path));
    if (known) throw new Fault(405, "MethodNotAllowedException", `${request.method} is not allowed on ${path}`);
    if (/^\/(trustanchor|profile)\/[^/]+/.test(path)) throw validation(`"${path.split("/")[2]}" is not a valid id`);
    throw new Fault(
      404,
      "UnknownOperationException",
      `${request.method} ${path} is not an operation the emulator knows`,
    );
  }
  const call: Call = {
    id,
    body: route.method === "GET" ? {} : parseBody(request),
    query: request.url.searchParams,
    context,
  };
  const action = `rolesanywhere:${route.operation}`;
  const resource = route.resource(call);
  if (!isAllowed(context.caller, action, resource, context.state)) {
    throw accessDenied(notAuthorized(context.caller, action, resource));
  }
  const output = route.run(call);
  if (route.mutates) context.mutated();
  return new Response(JSON.stringify(output), {
    status: route.status,
    headers: { "content-type": "application/json", "x-amzn-requestid": context.requestId },
  });
}
