/**
 * `iam setup`'s work: the walkthrough's trust anchor on the CA, a role whose trust policy names
 * the certificate's CN and that trust anchor, an inline permissions policy, and a profile for
 * the role, made to match a plan. Running it again converges: what certrole made is reused and
 * updated. What it did not make (no certrole:managed-by tag, see ownership.ts) it refuses to
 * change unless the plan says adopt, with one exception: a trust anchor that already holds
 * exactly this CA is used as it is (no second anchor for one CA, and nothing written to it).
 * Everything is read and every refusal decided before the first change, so a refusal leaves
 * the account as it was.
 */
import type { GetRolePolicyCommandOutput, Role } from "@aws-sdk/client-iam";
import type { ProfileDetail, TrustAnchorDetail } from "@aws-sdk/client-rolesanywhere";
import { CertroleError, type ErrorCode } from "../errors.ts";
import {
  allProfiles,
  allRoles,
  allTrustAnchors,
  call,
  decodedDocument,
  fromIamTags,
  getRole,
  lookup,
  otherUsers,
  resourceTags,
  single,
  tagResource,
  toIamTags,
  trustAnchorPem,
  untagResource,
} from "./account.ts";
import type { AwsClients } from "./aws_clients.ts";
import { sameCertificates } from "./ca_bundle.ts";
import type { Change, Step } from "./steps.ts";
import { permissionsPolicy, trustPolicy } from "./documents.ts";
import {
  certrolePolicy,
  isManaged,
  missingTags,
  profileRole,
  profileTags,
  roleTags,
  roleUserKey,
  roleUsers,
  type Tag,
  trustAnchorTags,
} from "./ownership.ts";

export interface SetupPlan {
  readonly roleName: string;
  readonly cn: string;
  readonly caPem: string;
  readonly allow: readonly string[];
  readonly resources?: readonly string[];
  readonly policyName: string;
  readonly trustAnchorName: string;
  readonly profileName: string;
  readonly durationSeconds: number;
  /** Take over existing resources certrole did not make (tag them, change them to the plan). */
  readonly adopt?: boolean;
}

export interface SetupResult {
  readonly trustAnchorArn: string;
  readonly roleArn: string;
  readonly profileArn: string;
  readonly steps: readonly Step[];
}

function refuse(code: ErrorCode, message: string): never {
  throw new CertroleError(code, message);
}

/** Policy documents compared by meaning, not by spacing or key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${
      Object.keys(value).sort().map((key) =>
        `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`
      )
        .join(",")
    }}`;
  }
  return JSON.stringify(value);
}

/** IAM returns documents URL-encoded; compare them with what we would send. */
function sameDocument(returned: string | undefined, wanted: string): boolean {
  if (returned === undefined) return false;
  try {
    return canonical(JSON.parse(decodedDocument(returned))) === canonical(JSON.parse(wanted));
  } catch {
    return false;
  }
}

type AnchorPlan =
  | { readonly kind: "create" }
  /** An anchor holding exactly this CA: used, enabled (if ours or adopted) and tagged (if ours). */
  | { readonly kind: "reuse"; readonly anchor: TrustAnchorDetail; readonly tags: Tag[]; readonly adopting: boolean }
  /** The anchor of that name, holding another CA that nobody else relies on. */
  | {
    readonly kind: "replace-ca";
    readonly anchor: TrustAnchorDetail;
    readonly tags: Tag[];
    readonly adopting: boolean;
  };

async function planTrustAnchor(
  clients: AwsClients,
  plan: SetupPlan,
  anchors: readonly TrustAnchorDetail[],
): Promise<AnchorPlan> {
  const holding: { anchor: TrustAnchorDetail; tags: Tag[] }[] = [];
  for (const anchor of anchors.filter((candidate) => sameCertificates(trustAnchorPem(candidate), plan.caPem))) {
    holding.push({ anchor, tags: await resourceTags(clients, anchor.trustAnchorArn!) });
  }
  const pick = holding.find((item) => isManaged(item.tags)) ??
    holding.find((item) => item.anchor.name === plan.trustAnchorName) ??
    holding.find((item) => item.anchor.enabled) ?? holding[0];
  if (pick) {
    const foreign = !isManaged(pick.tags);
    if (foreign && !pick.anchor.enabled && !plan.adopt) {
      refuse(
        "NotCreatedByCertrole",
        `trust anchor "${pick.anchor.name}" (${pick.anchor.trustAnchorArn}) holds this CA but is disabled, and certrole did not create it: enable it yourself, or pass --adopt to let certrole manage it`,
      );
    }
    return { kind: "reuse", ...pick, adopting: foreign && !pick.anchor.enabled };
  }
  const named = single(anchors, plan.trustAnchorName, "trust anchor");
  if (!named) return { kind: "create" };
  const tags = await resourceTags(clients, named.trustAnchorArn!);
  const foreign = !isManaged(tags);
  const where = `trust anchor "${named.name}" (${named.trustAnchorArn}) holds another CA`;
  if (foreign && !plan.adopt) {
    refuse(
      "NotCreatedByCertrole",
      `${where} and certrole did not create it: give --trust-anchor-name NAME for a new one, or pass --adopt to replace its CA`,
    );
  }
  const users = otherUsers(named.trustAnchorArn!, tags, await allRoles(clients), plan.roleName);
  if (users.length) {
    refuse(
      "TrustAnchorInUse",
      `${where} that role ${
        users.join(", ")
      } still trusts: give --trust-anchor-name NAME for a trust anchor of this CA's own`,
    );
  }
  return { kind: "replace-ca", anchor: named, tags, adopting: foreign };
}

type ProfilePlan =
  | { readonly kind: "create" }
  | { readonly kind: "converge"; readonly profile: ProfileDetail; readonly tags: Tag[]; readonly adopting: boolean };

async function planProfile(clients: AwsClients, plan: SetupPlan): Promise<ProfilePlan> {
  const profile = single(await allProfiles(clients), plan.profileName, "profile");
  if (!profile) return { kind: "create" };
  const tags = await resourceTags(clients, profile.profileArn!);
  const where = `profile "${profile.name}" (${profile.profileArn})`;
  if (!isManaged(tags)) {
    if (!plan.adopt) {
      refuse(
        "NotCreatedByCertrole",
        `${where} exists and was not created by certrole: pick another --profile-name, or pass --adopt to let certrole manage it`,
      );
    }
    return { kind: "converge", profile, tags, adopting: true };
  }
  const madeFor = profileRole(tags);
  if (madeFor !== plan.roleName) {
    refuse(
      "ProfileOfAnotherRole",
      `${where} is the one certrole made for role "${madeFor}": pick another --profile-name`,
    );
  }
  return { kind: "converge", profile, tags, adopting: false };
}

/** The role and its inline policy as they are, and what certrole may do to them. */
interface RolePlan {
  /** undefined: no such role yet. */
  readonly role?: Role;
  readonly tags: Tag[];
  /** It carries certrole's tag (not merely adopted). */
  readonly ours: boolean;
  /** The inline policy of plan.policyName, when there is one. */
  readonly policy?: GetRolePolicyCommandOutput;
  /** The inline policy certrole wrote before (its name from the role's tags). */
  readonly previousPolicyName?: string;
  /** An inline policy of that name that certrole did not write (adopted with --adopt). */
  readonly policyIsForeign: boolean;
}

export async function setUp(clients: AwsClients, plan: SetupPlan): Promise<SetupResult> {
  // Read and decide everything first.
  const anchors = await allTrustAnchors(clients);
  const anchorPlan = await planTrustAnchor(clients, plan, anchors);
  const rolePlan = await planRole(clients, plan);
  const profilePlan = await planProfile(clients, plan);

  // The trust anchor first: the role's trust policy names it (aws:SourceArn).
  const anchorStep = await applyTrustAnchor(clients, plan, anchorPlan);
  const trustAnchorArn = anchorStep.arn!;
  const roleStep = await applyRole(clients, plan, rolePlan, anchors, trustAnchorArn);
  const roleArn = roleStep.arn!;
  const policySteps = await applyPolicy(clients, plan, rolePlan);
  const profileStep = await applyProfile(clients, plan, profilePlan, roleArn);
  const steps = [anchorStep, roleStep, ...policySteps, profileStep];
  return { trustAnchorArn, roleArn, profileArn: profileStep.arn!, steps };
}

async function planRole(clients: AwsClients, plan: SetupPlan): Promise<RolePlan> {
  const iam = clients.iamSdk;
  const role = await getRole(clients, plan.roleName);
  const tags = fromIamTags(role?.Tags);
  const ours = role !== undefined && isManaged(tags);
  if (role && !ours && !plan.adopt) {
    refuse(
      "NotCreatedByCertrole",
      `role "${plan.roleName}" exists and was not created by certrole (no certrole:managed-by tag): pick another --role-name, or pass --adopt to let certrole manage it (its trust policy is replaced)`,
    );
  }
  const policy = role
    ? await lookup(
      "reading the role's inline policy",
      () => clients.iam.send(new iam.GetRolePolicyCommand({ RoleName: plan.roleName, PolicyName: plan.policyName })),
    )
    : undefined;
  const previousPolicyName = ours ? certrolePolicy(tags) : undefined;
  const policyIsForeign = policy !== undefined && previousPolicyName !== plan.policyName;
  if (policyIsForeign && !plan.adopt) {
    refuse(
      "NotCreatedByCertrole",
      `inline policy "${plan.policyName}" of role "${plan.roleName}" was not written by certrole: pick another --policy-name, or pass --adopt to replace it`,
    );
  }
  return { role, tags, ours, policy, previousPolicyName, policyIsForeign };
}

async function applyTrustAnchor(clients: AwsClients, plan: SetupPlan, anchorPlan: AnchorPlan): Promise<Step> {
  const ra = clients.rolesAnywhereSdk;
  const source = { sourceType: "CERTIFICATE_BUNDLE" as const, sourceData: { x509CertificateData: plan.caPem } };
  let anchor: TrustAnchorDetail | undefined;
  let change: Change = "unchanged";
  let note: string | undefined;
  if (anchorPlan.kind === "create") {
    anchor = (await call("creating the trust anchor", () =>
      clients.rolesAnywhere.send(
        new ra.CreateTrustAnchorCommand({
          name: plan.trustAnchorName,
          enabled: true,
          source,
          tags: trustAnchorTags(plan.roleName),
        }),
      ))).trustAnchor;
    change = "created";
  } else {
    anchor = anchorPlan.anchor;
    const id = anchor.trustAnchorId!;
    const ours = isManaged(anchorPlan.tags) || anchorPlan.adopting;
    if (anchorPlan.kind === "replace-ca") {
      anchor = (await call("updating the trust anchor's CA", () =>
        clients.rolesAnywhere.send(new ra.UpdateTrustAnchorCommand({ trustAnchorId: id, source })))).trustAnchor;
      change = "updated";
    }
    if (ours) {
      await tagResource(
        clients,
        anchor!.trustAnchorArn!,
        missingTags(anchorPlan.tags, trustAnchorTags(plan.roleName)),
        "the trust anchor",
      );
      if (!anchor?.enabled) {
        anchor = (await call("enabling the trust anchor", () =>
          clients.rolesAnywhere.send(new ra.EnableTrustAnchorCommand({ trustAnchorId: id })))).trustAnchor;
        change = "updated";
      }
      const others = roleUsers(anchorPlan.tags).filter((name) => name !== plan.roleName);
      if (others.length) note = `also trusted by role ${others.join(", ")}`;
    } else {
      note = "not created by certrole: used as it is";
    }
    if (anchorPlan.adopting) change = "adopted";
  }
  return { what: `trust anchor ${anchor!.name}`, change, arn: anchor!.trustAnchorArn!, note };
}

/** The role, its tags and its trust policy: certificates with the CN, through this trust anchor. */
async function applyRole(
  clients: AwsClients,
  plan: SetupPlan,
  { role, tags: currentTags, ours }: RolePlan,
  anchors: readonly TrustAnchorDetail[],
  trustAnchorArn: string,
): Promise<Step> {
  const iam = clients.iamSdk;
  const trust = JSON.stringify(trustPolicy({ cn: plan.cn, trustAnchorArns: [trustAnchorArn] }));
  let roleArn: string;
  let change: Change = "unchanged";
  if (!role) {
    roleArn = (await call("creating the role", () =>
      clients.iam.send(
        new iam.CreateRoleCommand({
          RoleName: plan.roleName,
          AssumeRolePolicyDocument: trust,
          Description: `IAM Roles Anywhere: certificates with CN=${plan.cn} (made by certrole iam setup)`,
          Tags: toIamTags(roleTags(plan.policyName)),
        }),
      ))).Role!.Arn!;
    change = "created";
  } else {
    roleArn = role.Arn!;
    const tags = missingTags(currentTags, roleTags(plan.policyName));
    if (tags.length) {
      await call(
        "tagging the role",
        () => clients.iam.send(new iam.TagRoleCommand({ RoleName: plan.roleName, Tags: toIamTags(tags) })),
      );
    }
    if (!sameDocument(role.AssumeRolePolicyDocument, trust)) {
      await call(
        "updating the role's trust policy",
        () =>
          clients.iam.send(new iam.UpdateAssumeRolePolicyCommand({ RoleName: plan.roleName, PolicyDocument: trust })),
      );
      change = "updated";
      if (ours) await forgetTrustAnchors(clients, anchors, role.AssumeRolePolicyDocument, trustAnchorArn, plan);
    }
    if (!ours) change = "adopted";
  }
  return { what: `role ${plan.roleName} (trust policy: CN=${plan.cn} via this trust anchor)`, change, arn: roleArn };
}

/** The inline permissions policy, and the one certrole wrote under another name before, deleted. */
async function applyPolicy(
  clients: AwsClients,
  plan: SetupPlan,
  { policy, previousPolicyName, policyIsForeign }: RolePlan,
): Promise<Step[]> {
  const iam = clients.iamSdk;
  const permissions = JSON.stringify(permissionsPolicy({ allow: plan.allow, resources: plan.resources }));
  let change: Change = "unchanged";
  if (!sameDocument(policy?.PolicyDocument, permissions)) {
    await call("writing the role's inline policy", () =>
      clients.iam.send(
        new iam.PutRolePolicyCommand({
          RoleName: plan.roleName,
          PolicyName: plan.policyName,
          PolicyDocument: permissions,
        }),
      ));
    change = policy ? "updated" : "created";
  }
  if (policyIsForeign) change = "adopted";
  const steps: Step[] = [{ what: `inline policy ${plan.policyName} (allow ${plan.allow.join(", ")})`, change }];
  if (previousPolicyName !== undefined && previousPolicyName !== plan.policyName) {
    const gone = await lookup(
      `deleting inline policy ${previousPolicyName}`,
      () =>
        clients.iam.send(new iam.DeleteRolePolicyCommand({ RoleName: plan.roleName, PolicyName: previousPolicyName })),
    );
    if (gone) {
      steps.push({
        what: `inline policy ${previousPolicyName}`,
        change: "deleted",
        note: `replaced by ${plan.policyName}`,
      });
    }
  }
  return steps;
}

async function applyProfile(
  clients: AwsClients,
  plan: SetupPlan,
  profilePlan: ProfilePlan,
  roleArn: string,
): Promise<Step> {
  const ra = clients.rolesAnywhereSdk;
  let profile: ProfileDetail | undefined;
  let change: Change = "unchanged";
  if (profilePlan.kind === "create") {
    profile = (await call("creating the profile", () =>
      clients.rolesAnywhere.send(
        new ra.CreateProfileCommand({
          name: plan.profileName,
          enabled: true,
          roleArns: [roleArn],
          durationSeconds: plan.durationSeconds,
          tags: profileTags(plan.roleName),
        }),
      ))).profile;
    change = "created";
  } else {
    profile = profilePlan.profile;
    const id = profile.profileId!;
    await tagResource(
      clients,
      profile.profileArn!,
      missingTags(profilePlan.tags, profileTags(plan.roleName)),
      "the profile",
    );
    // Roles someone else added to the profile stay.
    const roleArns = profile.roleArns?.includes(roleArn) ? profile.roleArns : [...(profile.roleArns ?? []), roleArn];
    if (roleArns !== profile.roleArns || profile.durationSeconds !== plan.durationSeconds) {
      profile = (await call("updating the profile", () =>
        clients.rolesAnywhere.send(
          new ra.UpdateProfileCommand({ profileId: id, roleArns, durationSeconds: plan.durationSeconds }),
        ))).profile;
      change = "updated";
    }
    if (!profile?.enabled) {
      profile = (await call("enabling the profile", () =>
        clients.rolesAnywhere.send(new ra.EnableProfileCommand({ profileId: id })))).profile;
      change = "updated";
    }
    if (profilePlan.adopting) change = "adopted";
  }
  return { what: `profile ${plan.profileName}`, change, arn: profile!.profileArn! };
}

/**
 * The role no longer trusts the anchors its old trust policy named: drop its certrole:role/
 * tag from those certrole made, so a later cleanup of another role sees who really uses them.
 */
async function forgetTrustAnchors(
  clients: AwsClients,
  anchors: readonly TrustAnchorDetail[],
  oldTrust: string | undefined,
  keptArn: string,
  plan: SetupPlan,
): Promise<void> {
  const old = decodedDocument(oldTrust);
  for (const anchor of anchors) {
    const arn = anchor.trustAnchorArn!;
    if (arn === keptArn || !old.includes(arn)) continue;
    const tags = await resourceTags(clients, arn);
    const key = roleUserKey(plan.roleName);
    if (isManaged(tags) && tags.some((tag) => tag.key === key)) {
      await untagResource(clients, arn, [key], `trust anchor ${anchor.name}`);
    }
  }
}
