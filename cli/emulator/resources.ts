/**
 * Creating and changing the emulator's resources, with AWS's ID and ARN formats and its
 * validation: shared by the IAM and Roles Anywhere control-plane handlers and by tests that
 * seed an emulator directly.
 */
import { parseCertificate } from "../identity/certificate.ts";
import { parsePem, PemError } from "../identity/pem.ts";
import { parsePolicy, PolicyError } from "../policy/document.ts";
import { Fault, notFound, validation } from "./fault.ts";
import { type EmulatorState, type Profile, randomId, type Role, type TrustAnchor } from "./state.ts";

const iamValidation = (message: string) => new Fault(400, "ValidationError", message);
const malformedPolicy = (message: string) => new Fault(400, "MalformedPolicyDocument", message);

function checkPolicy(document: string): void {
  try {
    parsePolicy(document);
  } catch (error) {
    throw malformedPolicy(`Syntax errors in policy: ${(error as PolicyError).message}`);
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
  },
  now: Date,
): Role {
  if (!/^[\w+=,.@-]{1,64}$/.test(input.roleName ?? "")) {
    throw iamValidation(`Role name "${input.roleName}" must be 1-64 characters of [\\w+=,.@-]`);
  }
  if (state.roles[input.roleName]) {
    throw new Fault(409, "EntityAlreadyExists", `Role with name ${input.roleName} already exists.`);
  }
  checkPolicy(input.assumeRolePolicyDocument);
  const path = input.path ?? "/";
  if (!/^\/([\x21-\x7e]*\/)?$/.test(path)) throw iamValidation(`Path "${path}" must begin and end with /`);
  const role: Role = {
    roleName: input.roleName,
    roleId: `AROA${randomId(17)}`,
    arn: `arn:aws:iam::${state.accountId}:role${path}${input.roleName}`,
    path,
    assumeRolePolicyDocument: input.assumeRolePolicyDocument,
    description: input.description,
    maxSessionDuration: input.maxSessionDuration ?? 3600,
    createDate: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    policies: {},
  };
  state.roles[role.roleName] = role;
  return role;
}

export function getRole(state: EmulatorState, roleName: string): Role {
  const role = state.roles[roleName];
  if (!role) throw new Fault(404, "NoSuchEntity", `The role with name ${roleName} cannot be found.`);
  return role;
}

export function putRolePolicy(state: EmulatorState, roleName: string, policyName: string, document: string): void {
  const role = getRole(state, roleName);
  if (!/^[\w+=,.@-]{1,128}$/.test(policyName ?? "")) throw iamValidation(`Policy name "${policyName}" is invalid`);
  checkPolicy(document);
  role.policies[policyName] = document;
}

function now8601(now: Date): string {
  return now.toISOString();
}

/** CERTIFICATE_BUNDLE source: at least one CA certificate, all parseable. */
function checkBundle(pem: string): void {
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
  },
  now: Date,
): TrustAnchor {
  if (!/^[ a-zA-Z0-9-_]{1,255}$/.test(input.name ?? "")) {
    throw validation("name must be 1-255 characters of [ a-zA-Z0-9-_]");
  }
  if (input.source?.sourceType !== "CERTIFICATE_BUNDLE") {
    throw validation("source.sourceType must be CERTIFICATE_BUNDLE (AWS_ACM_PCA is not emulated)");
  }
  const pem = input.source.sourceData?.x509CertificateData ?? "";
  checkBundle(pem);
  const id = crypto.randomUUID();
  const anchor: TrustAnchor = {
    trustAnchorId: id,
    trustAnchorArn: `arn:aws:rolesanywhere:${state.region}:${state.accountId}:trust-anchor/${id}`,
    name: input.name,
    enabled: input.enabled ?? false,
    source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: pem } },
    createdAt: now8601(now),
    updatedAt: now8601(now),
  };
  state.trustAnchors[id] = anchor;
  return anchor;
}

export function getTrustAnchor(state: EmulatorState, id: string): TrustAnchor {
  const anchor = state.trustAnchors[id];
  if (!anchor) throw notFound(`Trust anchor ${id} not found`);
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
  },
  now: Date,
): Profile {
  if (!/^[ a-zA-Z0-9-_]{1,255}$/.test(input.name ?? "")) {
    throw validation("name must be 1-255 characters of [ a-zA-Z0-9-_]");
  }
  if (!Array.isArray(input.roleArns) || input.roleArns.length === 0 || input.roleArns.length > 250) {
    throw validation("roleArns must list 1 to 250 role ARNs");
  }
  for (const arn of input.roleArns) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(arn)) {
      throw validation(`roleArns: "${arn}" is not an IAM role ARN`);
    }
  }
  const durationSeconds = input.durationSeconds ?? 3600;
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43200) {
    throw validation("durationSeconds must be an integer from 900 to 43200");
  }
  if (input.sessionPolicy !== undefined) {
    try {
      parsePolicy(input.sessionPolicy);
    } catch (error) {
      throw validation(`sessionPolicy is not a valid policy: ${(error as PolicyError).message}`);
    }
  }
  const id = crypto.randomUUID();
  const profile: Profile = {
    profileId: id,
    profileArn: `arn:aws:rolesanywhere:${state.region}:${state.accountId}:profile/${id}`,
    name: input.name,
    enabled: input.enabled ?? false,
    roleArns: [...input.roleArns],
    durationSeconds,
    sessionPolicy: input.sessionPolicy,
    managedPolicyArns: input.managedPolicyArns ?? [],
    requireInstanceProperties: input.requireInstanceProperties ?? false,
    createdBy: `arn:aws:iam::${state.accountId}:root`,
    createdAt: now8601(now),
    updatedAt: now8601(now),
  };
  state.profiles[id] = profile;
  return profile;
}

export function getProfile(state: EmulatorState, id: string): Profile {
  const profile = state.profiles[id];
  if (!profile) throw notFound(`Profile ${id} not found`);
  return profile;
}
