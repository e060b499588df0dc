/**
 * The emulator's resources and the rules AWS applies to them: IDs and ARNs in AWS's formats,
 * name and document validation, tags (resource_tags.ts), and the conflicts IAM reports (a role
 * with inline policies cannot be deleted). Shared by the IAM and Roles Anywhere control-plane handlers and by tests
 * that seed an emulator directly. Handlers only translate wire formats; the rules live here.
 */
import { parseCertificate } from "../identity/certificate.ts";
import { parsePem, PemError } from "../identity/pem.ts";
import { parsePolicy, type Policy, PolicyError } from "./policy/document.ts";
import { isSupportedOperator } from "./policy/evaluate.ts";
import { checkTags, IAM_TAG_RULES, ROLES_ANYWHERE_TAG_RULES, withoutTags, withTags } from "./resource_tags.ts";
import type { Tag } from "./state.ts";
import { Fault, notFound, validation } from "./fault.ts";
import { arnOf, type EmulatorState, keyed, type Profile, randomId, type Role, type TrustAnchor } from "./state.ts";
import { isoSeconds } from "../iso_time.ts";

const iamValidation = (message: string) => new Fault(400, "ValidationError", message);
const malformedPolicy = (message: string) => new Fault(400, "MalformedPolicyDocument", message);

/** A trust policy (the role is the resource) or a permissions policy (which must name resources). */
type PolicyKind = "trust" | "permissions";

function checkPolicy(document: string, kind: PolicyKind): void {
  let policy;
  try {
    policy = parsePolicy(document);
  } catch (error) {
    throw malformedPolicy(`Syntax errors in policy: ${(error as PolicyError).message}`);
  }
  checkOperators(policy, malformedPolicy);
  if (kind === "permissions") checkResources(policy, malformedPolicy);
}

/**
 * Permissions and session policies need Resource or NotResource in every statement
 * (reference_policies_elements_resource.html); IAM's answer to one without is
 * MalformedPolicyDocument "Policy statement must contain resources.".
 */
function checkResources(policy: Policy, error: (message: string) => Fault): void {
  if (policy.statements.some((statement) => !statement.resources && !statement.notResources)) {
    throw error("Policy statement must contain resources.");
  }
}

/** Refuses condition operators the evaluator does not know, rather than failing at request time. */
function checkOperators(policy: Policy, error: (message: string) => Fault): void {
  for (const statement of policy.statements) {
    for (const operator of Object.keys(statement.conditions)) {
      if (!isSupportedOperator(operator)) {
        throw error(`Condition operator ${operator} is not supported by the emulator`);
      }
    }
  }
}

export function createRole(
  state: EmulatorState,
  input: {
    roleName: string;
    assumeRolePolicyDocument: string;
    path?: string;
    description?: string;
    maxSessionDuration?: number;
    tags?: readonly Tag[];
  },
  now: Date,
): Role {
  if (!/^[\w+=,.@-]{1,64}$/.test(input.roleName ?? "")) {
    throw iamValidation(`Role name "${input.roleName}" must be 1-64 characters of [\\w+=,.@-]`);
  }
  if (state.roles[input.roleName]) {
    throw new Fault(409, "EntityAlreadyExists", `Role with name ${input.roleName} already exists.`);
  }
  checkPolicy(input.assumeRolePolicyDocument, "trust");
  const path = input.path ?? "/";
  if (!/^\/([\x21-\x7e]*\/)?$/.test(path)) throw iamValidation(`Path "${path}" must begin and end with /`);
  const maxSessionDuration = input.maxSessionDuration ?? 3600;
  if (!Number.isInteger(maxSessionDuration) || maxSessionDuration < 3600 || maxSessionDuration > 43200) {
    throw iamValidation("MaxSessionDuration must be an integer from 3600 to 43200");
  }
  const tags = withTags([], input.tags ?? [], IAM_TAG_RULES);
  const role: Role = {
    roleName: input.roleName,
    roleId: `AROA${randomId(17)}`,
    arn: arnOf(state, "iam", `role${path}${input.roleName}`),
    path,
    tags,
    assumeRolePolicyDocument: input.assumeRolePolicyDocument,
    description: input.description,
    maxSessionDuration,
    createDate: isoSeconds(now),
    policies: keyed(),
  };
  state.roles[role.roleName] = role;
  return role;
}

export function getRole(state: EmulatorState, roleName: string): Role {
  const role = state.roles[roleName];
  if (!role) throw new Fault(404, "NoSuchEntity", `The role with name ${roleName} cannot be found.`);
  return role;
}

/** Roles whose path starts with `pathPrefix`, in name order (as IAM lists them). */
export function listRoles(state: EmulatorState, pathPrefix = "/"): Role[] {
  return Object.values(state.roles)
    .filter((role) => role.path.startsWith(pathPrefix))
    .sort((a, b) => a.roleName.localeCompare(b.roleName));
}

export function deleteRole(state: EmulatorState, roleName: string): void {
  const role = getRole(state, roleName);
  if (Object.keys(role.policies).length > 0) {
    throw new Fault(409, "DeleteConflict", "Cannot delete entity, must delete policies first.");
  }
  delete state.roles[roleName];
}

/** TagRole: adds tags, replacing those with the same key (IAM compares role tag keys without case). */
export function tagRole(state: EmulatorState, roleName: string, tags: readonly Tag[]): void {
  const role = getRole(state, roleName);
  role.tags = withTags(role.tags, tags, IAM_TAG_RULES);
}

export function untagRole(state: EmulatorState, roleName: string, keys: readonly string[]): void {
  const role = getRole(state, roleName);
  role.tags = withoutTags(role.tags, keys, IAM_TAG_RULES);
}

export function roleTags(state: EmulatorState, roleName: string): Tag[] {
  return [...(getRole(state, roleName).tags ?? [])];
}

export function updateAssumeRolePolicy(state: EmulatorState, roleName: string, document: string): void {
  const role = getRole(state, roleName);
  checkPolicy(document, "trust");
  role.assumeRolePolicyDocument = document;
}

export function putRolePolicy(state: EmulatorState, roleName: string, policyName: string, document: string): void {
  const role = getRole(state, roleName);
  checkPolicyName(policyName);
  checkPolicy(document, "permissions");
  role.policies[policyName] = document;
}

function checkPolicyName(policyName: string): void {
  if (!/^[\w+=,.@-]{1,128}$/.test(policyName ?? "")) {
    throw iamValidation(`Policy name "${policyName}" must be 1-128 characters of [\\w+=,.@-]`);
  }
}

export function getRolePolicy(state: EmulatorState, roleName: string, policyName: string): string {
  const role = getRole(state, roleName);
  const document = role.policies[policyName];
  if (document === undefined) {
    throw new Fault(404, "NoSuchEntity", `The role policy with name ${policyName} cannot be found.`);
  }
  return document;
}

export function listRolePolicies(state: EmulatorState, roleName: string): string[] {
  return Object.keys(getRole(state, roleName).policies).sort();
}

export function deleteRolePolicy(state: EmulatorState, roleName: string, policyName: string): void {
  getRolePolicy(state, roleName, policyName);
  delete state.roles[roleName].policies[policyName];
}

function now8601(now: Date): string {
  return now.toISOString();
}

function byCreation(a: { createdAt: string }, b: { createdAt: string }): number {
  return a.createdAt.localeCompare(b.createdAt);
}

function checkResourceName(name: string): void {
  if (typeof name !== "string" || !/^[ a-zA-Z0-9-_]{1,255}$/.test(name)) {
    throw validation("name must be 1-255 characters of [ a-zA-Z0-9-_]");
  }
}

/** The trust anchor's source: a PEM bundle of CA certificates; returns the PEM. */
function checkSource(source: { sourceType?: string; sourceData?: { x509CertificateData?: string } } | undefined) {
  if (source?.sourceType !== "CERTIFICATE_BUNDLE") {
    throw validation("source.sourceType must be CERTIFICATE_BUNDLE (AWS_ACM_PCA is not emulated)");
  }
  const pem = source.sourceData?.x509CertificateData;
  if (typeof pem !== "string") throw validation("source.sourceData.x509CertificateData is required");
  checkBundle(pem);
  return pem;
}

/** x509CertificateData's maximum length in the IAM Roles Anywhere service model. */
const MAX_BUNDLE_CHARS = 16_000;

/** CERTIFICATE_BUNDLE source: at least one CA certificate, all parseable. */
function checkBundle(pem: string): void {
  if (pem.length > MAX_BUNDLE_CHARS) {
    throw validation(`x509CertificateData is ${pem.length} characters: at most ${MAX_BUNDLE_CHARS} are allowed`);
  }
  let blocks;
  try {
    blocks = parsePem(pem ?? "");
  } catch (error) {
    throw validation(`x509CertificateData is not PEM: ${(error as PemError).message}`);
  }
  const certificates = blocks.filter((block) => block.label === "CERTIFICATE");
  if (certificates.length === 0) throw validation("x509CertificateData must contain a PEM CERTIFICATE");
  for (const block of certificates) {
    let certificate;
    try {
      certificate = parseCertificate(block.bytes);
    } catch {
      throw validation("x509CertificateData contains a malformed certificate");
    }
    if (certificate.version !== 3 || !certificate.basicConstraints?.ca) {
      throw validation(
        `Trust anchor certificate "${certificate.subject.text}" is not an X.509 v3 CA certificate (basicConstraints CA:TRUE)`,
      );
    }
  }
}

export function createTrustAnchor(
  state: EmulatorState,
  input: {
    name: string;
    enabled?: boolean;
    source?: { sourceType?: string; sourceData?: { x509CertificateData?: string } };
    tags?: readonly Tag[];
  },
  now: Date,
): TrustAnchor {
  checkResourceName(input.name);
  const pem = checkSource(input.source);
  checkTags(input.tags ?? [], ROLES_ANYWHERE_TAG_RULES);
  const id = crypto.randomUUID();
  const anchor: TrustAnchor = {
    trustAnchorId: id,
    trustAnchorArn: arnOf(state, "rolesanywhere", `trust-anchor/${id}`),
    name: input.name,
    enabled: input.enabled ?? false,
    source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: pem } },
    createdAt: now8601(now),
    updatedAt: now8601(now),
    tags: withTags([], input.tags ?? [], ROLES_ANYWHERE_TAG_RULES),
  };
  state.trustAnchors[id] = anchor;
  return anchor;
}

export function getTrustAnchor(state: EmulatorState, id: string): TrustAnchor {
  const anchor = state.trustAnchors[id];
  if (!anchor) throw notFound(`Trust anchor ${id} not found`);
  return anchor;
}

/** Oldest first, so pages stay stable while resources are added. */
export function listTrustAnchors(state: EmulatorState): TrustAnchor[] {
  return Object.values(state.trustAnchors).sort(byCreation);
}

export function deleteTrustAnchor(state: EmulatorState, id: string): TrustAnchor {
  const anchor = getTrustAnchor(state, id);
  delete state.trustAnchors[id];
  return anchor;
}

export function setTrustAnchorEnabled(state: EmulatorState, id: string, enabled: boolean, now: Date): TrustAnchor {
  const anchor = getTrustAnchor(state, id);
  anchor.enabled = enabled;
  anchor.updatedAt = now8601(now);
  return anchor;
}

export function updateTrustAnchor(
  state: EmulatorState,
  id: string,
  input: { name?: string; source?: { sourceType?: string; sourceData?: { x509CertificateData?: string } } },
  now: Date,
): TrustAnchor {
  const anchor = getTrustAnchor(state, id);
  if (input.name !== undefined) checkResourceName(input.name);
  const pem = input.source === undefined ? undefined : checkSource(input.source);
  if (input.name !== undefined) anchor.name = input.name;
  if (pem !== undefined) anchor.source = { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: pem } };
  anchor.updatedAt = now8601(now);
  return anchor;
}

export function createProfile(
  state: EmulatorState,
  input: {
    name: string;
    roleArns: string[];
    enabled?: boolean;
    durationSeconds?: number;
    sessionPolicy?: string;
    managedPolicyArns?: string[];
    requireInstanceProperties?: boolean;
    acceptRoleSessionName?: boolean;
    tags?: readonly Tag[];
  },
  now: Date,
): Profile {
  checkResourceName(input.name);
  checkTags(input.tags ?? [], ROLES_ANYWHERE_TAG_RULES);
  checkRoleArns(input.roleArns);
  const durationSeconds = input.durationSeconds ?? 3600;
  checkDuration(durationSeconds);
  if (input.sessionPolicy !== undefined) checkSessionPolicy(input.sessionPolicy);
  checkManagedPolicyArns(input.managedPolicyArns);
  const id = crypto.randomUUID();
  const profile: Profile = {
    profileId: id,
    profileArn: arnOf(state, "rolesanywhere", `profile/${id}`),
    name: input.name,
    enabled: input.enabled ?? false,
    roleArns: [...input.roleArns],
    durationSeconds,
    sessionPolicy: input.sessionPolicy,
    managedPolicyArns: input.managedPolicyArns ?? [],
    requireInstanceProperties: input.requireInstanceProperties ?? false,
    acceptRoleSessionName: input.acceptRoleSessionName ?? false,
    createdBy: arnOf(state, "iam", "root"),
    createdAt: now8601(now),
    updatedAt: now8601(now),
    tags: withTags([], input.tags ?? [], ROLES_ANYWHERE_TAG_RULES),
  };
  state.profiles[id] = profile;
  return profile;
}

export function getProfile(state: EmulatorState, id: string): Profile {
  const profile = state.profiles[id];
  if (!profile) throw notFound(`Profile ${id} not found`);
  return profile;
}

export function listProfiles(state: EmulatorState): Profile[] {
  return Object.values(state.profiles).sort(byCreation);
}

export function deleteProfile(state: EmulatorState, id: string): Profile {
  const profile = getProfile(state, id);
  delete state.profiles[id];
  return profile;
}

export function setProfileEnabled(state: EmulatorState, id: string, enabled: boolean, now: Date): Profile {
  const profile = getProfile(state, id);
  profile.enabled = enabled;
  profile.updatedAt = now8601(now);
  return profile;
}

export function updateProfile(
  state: EmulatorState,
  id: string,
  input: {
    name?: string;
    roleArns?: string[];
    durationSeconds?: number;
    sessionPolicy?: string;
    managedPolicyArns?: string[];
    acceptRoleSessionName?: boolean;
  },
  now: Date,
): Profile {
  const profile = getProfile(state, id);
  if (input.name !== undefined) checkResourceName(input.name);
  if (input.roleArns !== undefined) checkRoleArns(input.roleArns);
  if (input.durationSeconds !== undefined) checkDuration(input.durationSeconds);
  if (input.sessionPolicy !== undefined) checkSessionPolicy(input.sessionPolicy);
  checkManagedPolicyArns(input.managedPolicyArns);
  if (input.name !== undefined) profile.name = input.name;
  if (input.roleArns !== undefined) profile.roleArns = [...input.roleArns];
  if (input.durationSeconds !== undefined) profile.durationSeconds = input.durationSeconds;
  if (input.sessionPolicy !== undefined) profile.sessionPolicy = input.sessionPolicy;
  if (input.managedPolicyArns !== undefined) profile.managedPolicyArns = [...input.managedPolicyArns];
  if (input.acceptRoleSessionName !== undefined) profile.acceptRoleSessionName = input.acceptRoleSessionName;
  profile.updatedAt = now8601(now);
  return profile;
}

/**
 * The trust anchor or profile a Roles Anywhere ARN names: the resources TagResource,
 * UntagResource and ListTagsForResource take here (CRLs are not emulated).
 */
function taggedResource(state: EmulatorState, arn: string): TrustAnchor | Profile {
  const match = typeof arn === "string" &&
    arn.match(/^arn:aws[a-z-]*:rolesanywhere:[a-z0-9-]+:\d{12}:(trust-anchor|profile|crl)\/([0-9a-f-]{36})$/);
  if (!match) throw validation(`resourceArn "${arn}" is not an IAM Roles Anywhere resource ARN`);
  const resource = match[1] === "trust-anchor"
    ? state.trustAnchors[match[2]]
    : match[1] === "profile"
    ? state.profiles[match[2]]
    : undefined;
  const found = resource && ("trustAnchorArn" in resource ? resource.trustAnchorArn : resource.profileArn) === arn;
  if (!found) throw notFound(`Resource ${arn} not found`);
  return resource;
}

export function tagResource(state: EmulatorState, arn: string, tags: readonly Tag[]): void {
  const resource = taggedResource(state, arn);
  resource.tags = withTags(resource.tags, tags, ROLES_ANYWHERE_TAG_RULES);
}

export function untagResource(state: EmulatorState, arn: string, keys: readonly string[]): void {
  const resource = taggedResource(state, arn);
  resource.tags = withoutTags(resource.tags, keys, ROLES_ANYWHERE_TAG_RULES);
}

export function listTagsForResource(state: EmulatorState, arn: string): Tag[] {
  return [...(taggedResource(state, arn).tags ?? [])];
}

function checkRoleArns(roleArns: unknown): asserts roleArns is string[] {
  if (!Array.isArray(roleArns) || roleArns.length > 250) throw validation("roleArns must list up to 250 role ARNs");
  for (const arn of roleArns) {
    if (typeof arn !== "string" || !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(arn)) {
      throw validation(`roleArns: "${arn}" is not an IAM role ARN`);
    }
  }
}

function checkDuration(durationSeconds: unknown): void {
  if (!Number.isInteger(durationSeconds) || (durationSeconds as number) < 900 || (durationSeconds as number) > 43200) {
    throw validation("durationSeconds must be an integer from 900 to 43200");
  }
}

function checkSessionPolicy(sessionPolicy: unknown): void {
  if (typeof sessionPolicy !== "string") throw validation("sessionPolicy must be a JSON policy document string");
  let policy;
  try {
    policy = parsePolicy(sessionPolicy);
  } catch (error) {
    throw validation(`sessionPolicy is not a valid policy: ${(error as PolicyError).message}`);
  }
  checkOperators(policy, validation);
  checkResources(policy, validation);
}

/** Managed policies are not emulated: refuse them rather than silently ignore them. */
function checkManagedPolicyArns(arns: unknown): void {
  if (arns === undefined || (Array.isArray(arns) && arns.length === 0)) return;
  throw validation("managedPolicyArns are not emulated: use the role's inline policies or a sessionPolicy");
}
