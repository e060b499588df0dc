/**
 * What `iam setup` and `iam cleanup` read from the account and the calls they make, through
 * the AWS SDK: every page of a listing, resources' tags (as ownership.ts spells them), which
 * roles trust a trust anchor, and calls whose failure becomes one line naming what was being
 * done.
 */
import type { Role, Tag as IamTag } from "@aws-sdk/client-iam";
import type { ProfileDetail, TrustAnchorDetail } from "@aws-sdk/client-rolesanywhere";
import { CertroleError } from "../errors.ts";
import { type AwsClients, describeAwsError } from "./aws_clients.ts";
import { roleUsers, type Tag } from "./ownership.ts";

/** Runs one AWS call, turning its failure into a one-line user error. */
export async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new CertroleError("AwsError", describeAwsError(error, what));
  }
}

export function errorName(error: unknown): string | undefined {
  return (error as { name?: string })?.name;
}

function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return name === "NoSuchEntityException" || name === "NoSuchEntity" || name === "ResourceNotFoundException";
}

/** Runs an AWS call that may find nothing: undefined then. */
export async function lookup<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new CertroleError("AwsError", describeAwsError(error, what));
  }
}

export async function allTrustAnchors(clients: AwsClients): Promise<TrustAnchorDetail[]> {
  const { ListTrustAnchorsCommand } = clients.rolesAnywhereSdk;
  const anchors: TrustAnchorDetail[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(
      "listing trust anchors",
      () => clients.rolesAnywhere.send(new ListTrustAnchorsCommand({ nextToken })),
    );
    anchors.push(...(page.trustAnchors ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return anchors;
}

export async function allProfiles(clients: AwsClients): Promise<ProfileDetail[]> {
  const { ListProfilesCommand } = clients.rolesAnywhereSdk;
  const profiles: ProfileDetail[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(
      "listing profiles",
      () => clients.rolesAnywhere.send(new ListProfilesCommand({ nextToken })),
    );
    profiles.push(...(page.profiles ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return profiles;
}

/** Every role with its trust policy (ListRoles leaves tags out). */
export async function allRoles(clients: AwsClients): Promise<Role[]> {
  const { ListRolesCommand } = clients.iamSdk;
  const roles: Role[] = [];
  let marker: string | undefined;
  do {
    const page = await call(
      "listing roles",
      () => clients.iam.send(new ListRolesCommand({ Marker: marker, MaxItems: 1000 })),
    );
    roles.push(...(page.Roles ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return roles;
}

/** The role with its tags (GetRole returns them), or undefined. */
export async function getRole(clients: AwsClients, roleName: string): Promise<Role | undefined> {
  const { GetRoleCommand } = clients.iamSdk;
  return (await lookup("reading the role", () => clients.iam.send(new GetRoleCommand({ RoleName: roleName }))))?.Role;
}

export async function rolePolicyNames(clients: AwsClients, roleName: string): Promise<string[]> {
  const { ListRolePoliciesCommand } = clients.iamSdk;
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await call(
      "listing the role's inline policies",
      () => clients.iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker })),
    );
    names.push(...(page.PolicyNames ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return names;
}

export function fromIamTags(tags: readonly IamTag[] | undefined): Tag[] {
  return (tags ?? []).map((tag) => ({ key: tag.Key ?? "", value: tag.Value ?? "" }));
}

export function toIamTags(tags: readonly Tag[]): IamTag[] {
  return tags.map((tag) => ({ Key: tag.key, Value: tag.value }));
}

/** A trust anchor's or profile's tags. */
export async function resourceTags(clients: AwsClients, resourceArn: string): Promise<Tag[]> {
  const { ListTagsForResourceCommand } = clients.rolesAnywhereSdk;
  const result = await call(
    `reading the tags of ${resourceArn}`,
    () => clients.rolesAnywhere.send(new ListTagsForResourceCommand({ resourceArn })),
  );
  return (result.tags ?? []).map((tag) => ({ key: tag.key ?? "", value: tag.value ?? "" }));
}

export async function tagResource(clients: AwsClients, resourceArn: string, tags: readonly Tag[], what: string) {
  if (tags.length === 0) return;
  const { TagResourceCommand } = clients.rolesAnywhereSdk;
  await call(
    `tagging ${what}`,
    () => clients.rolesAnywhere.send(new TagResourceCommand({ resourceArn, tags: [...tags] })),
  );
}

export async function untagResource(clients: AwsClients, resourceArn: string, keys: readonly string[], what: string) {
  if (keys.length === 0) return;
  const { UntagResourceCommand } = clients.rolesAnywhereSdk;
  await call(
    `untagging ${what}`,
    () => clients.rolesAnywhere.send(new UntagResourceCommand({ resourceArn, tagKeys: [...keys] })),
  );
}

/** The PEM bundle of a CERTIFICATE_BUNDLE trust anchor (undefined for an AWS Private CA one). */
export function trustAnchorPem(anchor: TrustAnchorDetail): string | undefined {
  return (anchor.source?.sourceData as { x509CertificateData?: string } | undefined)?.x509CertificateData;
}

/** IAM returns policy documents URL-encoded. */
export function decodedDocument(text: string | undefined): string {
  if (text === undefined) return "";
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The roles (but `except`) that use a trust anchor: those whose trust policy names its ARN
 * (made by certrole or not) and those its certrole:role/ tags name, if they still exist.
 */
export function otherUsers(
  anchorArn: string,
  anchorTags: readonly Tag[],
  roles: readonly Role[],
  except: string | undefined,
): string[] {
  const tagged = new Set(roleUsers(anchorTags));
  return roles
    .filter((role) => role.RoleName !== except)
    .filter((role) => tagged.has(role.RoleName!) || decodedDocument(role.AssumeRolePolicyDocument).includes(anchorArn))
    .map((role) => role.RoleName!)
    .sort();
}

/** The one resource with `name`, or none; two of the same name is for the user to sort out. */
export function single<T extends { name?: string }>(items: readonly T[], name: string, kind: string): T | undefined {
  const matches = items.filter((item) => item.name === name);
  if (matches.length > 1) {
    throw new CertroleError(
      "AmbiguousName",
      `${matches.length} ${kind}s are named "${name}": delete the extra ones or pick another name`,
    );
  }
  return matches[0];
}
