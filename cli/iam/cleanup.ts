/**
 * `iam cleanup`'s work: removes what `iam setup` made for one role and nothing else. A
 * resource goes only when its tags say certrole made it (ownership.ts) for this role:
 * - profiles: the one named --profile-name and those listing the role, unless another role is
 *   listed too;
 * - trust anchors: those the role's trust policy names, the one --trust-anchor-name names and
 *   those holding the --ca certificates, unless another role still trusts them (its trust
 *   policy names the anchor, or the anchor's certrole:role/ tags name it): then only this
 *   role's tag goes;
 * - the inline policy certrole wrote (certrole:policy), then the role, unless it holds inline
 *   policies certrole did not write.
 * What is kept is reported with the reason; what is already gone, as absent. It can run again.
 */
import { CertroleError } from "../errors.ts";
import {
  allProfiles,
  allRoles,
  allTrustAnchors,
  decodedDocument,
  errorName,
  fromIamTags,
  getRole,
  lookup,
  otherUsers,
  resourceTags,
  rolePolicyNames,
  trustAnchorPem,
  untagResource,
} from "./account.ts";
import { type AwsClients, describeAwsError } from "./aws_clients.ts";
import { sameCertificates } from "./ca_bundle.ts";
import { certrolePolicy, isManaged, profileRole, roleUserKey } from "./ownership.ts";
import type { Step } from "./steps.ts";

export interface CleanupPlan {
  readonly roleName: string;
  readonly profileName: string;
  /** Also consider the trust anchor of this name, */
  readonly trustAnchorName?: string;
  /** and those holding exactly these CA certificates (for when the role is already gone). */
  readonly caPem?: string;
}

const NOT_OURS = "not created by certrole";

/** The role name at the end of a role ARN (after any path). */
function roleNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}

export async function cleanUp(clients: AwsClients, plan: CleanupPlan): Promise<Step[]> {
  const ra = clients.rolesAnywhereSdk;
  const iam = clients.iamSdk;
  const steps: Step[] = [];
  const role = await getRole(clients, plan.roleName);
  const currentRoleTags = fromIamTags(role?.Tags);
  const roleIsOurs = role !== undefined && isManaged(currentRoleTags);

  const profiles = (await allProfiles(clients)).filter((profile) =>
    profile.name === plan.profileName || (profile.roleArns ?? []).some((arn) => roleNameOf(arn) === plan.roleName)
  );
  if (profiles.length === 0) steps.push({ what: `profile ${plan.profileName}`, change: "absent" });
  for (const profile of profiles) {
    const what = `profile ${profile.name}`;
    const arn = profile.profileArn!;
    const tags = await resourceTags(clients, arn);
    const madeFor = profileRole(tags);
    const others = (profile.roleArns ?? []).filter((roleArn) => roleNameOf(roleArn) !== plan.roleName);
    if (!isManaged(tags)) {
      steps.push({ what, change: "kept", arn, note: NOT_OURS });
    } else if (madeFor !== plan.roleName) {
      steps.push({ what, change: "kept", arn, note: `certrole made it for role ${madeFor}` });
    } else if (others.length) {
      steps.push({ what, change: "kept", arn, note: `it also lists role ${others.map(roleNameOf).join(", ")}` });
    } else {
      await lookup(
        "deleting the profile",
        () => clients.rolesAnywhere.send(new ra.DeleteProfileCommand({ profileId: profile.profileId! })),
      );
      steps.push({ what, change: "deleted", arn });
    }
  }

  const trust = decodedDocument(role?.AssumeRolePolicyDocument);
  const anchors = (await allTrustAnchors(clients)).filter((anchor) =>
    trust.includes(anchor.trustAnchorArn!) || anchor.name === plan.trustAnchorName ||
    (plan.caPem !== undefined && sameCertificates(trustAnchorPem(anchor), plan.caPem))
  );
  if (anchors.length === 0) {
    steps.push({ what: `trust anchor ${plan.trustAnchorName ?? `of role ${plan.roleName}`}`, change: "absent" });
  }
  let roles: Awaited<ReturnType<typeof allRoles>> | undefined;
  for (const anchor of anchors) {
    const what = `trust anchor ${anchor.name}`;
    const arn = anchor.trustAnchorArn!;
    const tags = await resourceTags(clients, arn);
    if (!isManaged(tags)) {
      steps.push({ what, change: "kept", arn, note: NOT_OURS });
      continue;
    }
    roles ??= await allRoles(clients);
    // A role certrole did not make stays, and so does what it trusts.
    const others = otherUsers(arn, tags, roles, roleIsOurs || !role ? plan.roleName : undefined);
    if (others.length) {
      const key = roleUserKey(plan.roleName);
      if (tags.some((tag) => tag.key === key)) await untagResource(clients, arn, [key], what);
      steps.push({ what, change: "kept", arn, note: `still used by role ${others.join(", ")}` });
    } else {
      await lookup(
        "deleting the trust anchor",
        () => clients.rolesAnywhere.send(new ra.DeleteTrustAnchorCommand({ trustAnchorId: anchor.trustAnchorId! })),
      );
      steps.push({ what, change: "deleted", arn });
    }
  }

  const what = `role ${plan.roleName}`;
  if (!role) {
    steps.push({ what, change: "absent" });
    return steps;
  }
  if (!roleIsOurs) {
    steps.push({ what, change: "kept", arn: role.Arn, note: NOT_OURS });
    return steps;
  }
  const ours = certrolePolicy(currentRoleTags);
  const names = await rolePolicyNames(clients, plan.roleName);
  if (ours !== undefined && names.includes(ours)) {
    await lookup(
      `deleting inline policy ${ours}`,
      () => clients.iam.send(new iam.DeleteRolePolicyCommand({ RoleName: plan.roleName, PolicyName: ours })),
    );
    steps.push({ what: `inline policy ${ours}`, change: "deleted" });
  }
  const others = names.filter((name) => name !== ours);
  if (others.length) {
    steps.push({
      what,
      change: "kept",
      arn: role.Arn,
      note: `it holds inline policies certrole did not write: ${others.join(", ")}`,
    });
    return steps;
  }
  try {
    await clients.iam.send(new iam.DeleteRoleCommand({ RoleName: plan.roleName }));
    steps.push({ what, change: "deleted", arn: role.Arn });
  } catch (error) {
    // Attached managed policies or instance profiles are not certrole's: IAM's DeleteConflict.
    if (errorName(error) !== "DeleteConflictException") {
      throw new CertroleError("AwsError", describeAwsError(error, "deleting the role"));
    }
    steps.push({ what, change: "kept", arn: role.Arn, note: describeAwsError(error, "IAM refuses to delete it") });
  }
  return steps;
}
