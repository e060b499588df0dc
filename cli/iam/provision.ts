/**
 * The walkthrough's IAM and IAM Roles Anywhere resources, made to match a plan and removed
 * again: trust anchor on the CA, role with a trust policy on the certificate's CN (and this
 * trust anchor), an inline permissions policy, and a profile for the role. Both directions
 * converge: running setup again reuses or updates what exists, cleanup skips what is gone.
 */
import { CertroleError } from "../errors.ts";
import { type AwsClients, describeAwsError } from "./aws_clients.ts";
import { permissionsPolicy, trustPolicy } from "./documents.ts";

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
}

export type Change = "created" | "updated" | "unchanged" | "deleted" | "absent";

export interface Step {
  readonly what: string;
  readonly change: Change;
  readonly arn?: string;
}

export interface SetupResult {
  readonly trustAnchorArn: string;
  readonly roleArn: string;
  readonly profileArn: string;
  readonly steps: readonly Step[];
}

/** Runs one AWS call, turning its failure into a one-line user error. */
async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new CertroleError("AwsError", describeAwsError(error, what));
  }
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === "NoSuchEntityException" || name === "NoSuchEntity" || name === "ResourceNotFoundException";
}

/** Runs an AWS call that may find nothing: undefined then. */
async function lookup<T>(what: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new CertroleError("AwsError", describeAwsError(error, what));
  }
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
    return canonical(JSON.parse(decodeURIComponent(returned))) === canonical(JSON.parse(wanted));
  } catch {
    return false;
  }
}

function samePem(a: string | undefined, b: string): boolean {
  const normalise = (text: string | undefined) => (text ?? "").replace(/\r/g, "").trim();
  return normalise(a) === normalise(b);
}

async function allTrustAnchors(clients: AwsClients) {
  const { ListTrustAnchorsCommand } = clients.rolesAnywhereSdk;
  const anchors = [];
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

async function allProfiles(clients: AwsClients) {
  const { ListProfilesCommand } = clients.rolesAnywhereSdk;
  const profiles = [];
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

/** The one resource with `name`, or none; two of the same name is for the user to sort out. */
function single<T extends { name?: string }>(items: T[], name: string, kind: string): T | undefined {
  const matches = items.filter((item) => item.name === name);
  if (matches.length > 1) {
    throw new CertroleError(
      "AmbiguousName",
      `${matches.length} ${kind}s are named "${name}": delete the extra ones or pick another name`,
    );
  }
  return matches[0];
}

export async function setUp(clients: AwsClients, plan: SetupPlan): Promise<SetupResult> {
  const ra = clients.rolesAnywhereSdk;
  const iam = clients.iamSdk;
  const steps: Step[] = [];

  // Trust anchor first: the role's trust policy names it (aws:SourceArn).
  const source = { sourceType: "CERTIFICATE_BUNDLE" as const, sourceData: { x509CertificateData: plan.caPem } };
  let anchor = single(await allTrustAnchors(clients), plan.trustAnchorName, "trust anchor");
  let anchorChange: Change = "unchanged";
  if (!anchor) {
    anchor = (await call("creating the trust anchor", () =>
      clients.rolesAnywhere.send(
        new ra.CreateTrustAnchorCommand({ name: plan.trustAnchorName, enabled: true, source }),
      ))).trustAnchor;
    anchorChange = "created";
  } else {
    const id = anchor.trustAnchorId!;
    if (!samePem(anchor.source?.sourceData?.x509CertificateData, plan.caPem)) {
      anchor = (await call("updating the trust anchor's CA", () =>
        clients.rolesAnywhere.send(new ra.UpdateTrustAnchorCommand({ trustAnchorId: id, source })))).trustAnchor;
      anchorChange = "updated";
    }
    if (!anchor?.enabled) {
      anchor = (await call("enabling the trust anchor", () =>
        clients.rolesAnywhere.send(new ra.EnableTrustAnchorCommand({ trustAnchorId: id })))).trustAnchor;
      anchorChange = "updated";
    }
  }
  const trustAnchorArn = anchor!.trustAnchorArn!;
  steps.push({ what: `trust anchor ${plan.trustAnchorName}`, change: anchorChange, arn: trustAnchorArn });

  const trust = JSON.stringify(trustPolicy({ cn: plan.cn, trustAnchorArns: [trustAnchorArn] }));
  const existing = await lookup(
    "reading the role",
    () => clients.iam.send(new iam.GetRoleCommand({ RoleName: plan.roleName })),
  );
  let role = existing?.Role;
  let roleChange: Change = "unchanged";
  if (!role) {
    role = (await call("creating the role", () =>
      clients.iam.send(
        new iam.CreateRoleCommand({
          RoleName: plan.roleName,
          AssumeRolePolicyDocument: trust,
          Description: `IAM Roles Anywhere: certificates with CN=${plan.cn} (made by certrole iam setup)`,
        }),
      ))).Role;
    roleChange = "created";
  } else if (!sameDocument(role.AssumeRolePolicyDocument, trust)) {
    await call(
      "updating the role's trust policy",
      () => clients.iam.send(new iam.UpdateAssumeRolePolicyCommand({ RoleName: plan.roleName, PolicyDocument: trust })),
    );
    roleChange = "updated";
  }
  const roleArn = role!.Arn!;
  steps.push({
    what: `role ${plan.roleName} (trust policy: CN=${plan.cn} via this trust anchor)`,
    change: roleChange,
    arn: roleArn,
  });

  const permissions = JSON.stringify(permissionsPolicy({ allow: plan.allow, resources: plan.resources }));
  const current = await lookup(
    "reading the role's inline policy",
    () => clients.iam.send(new iam.GetRolePolicyCommand({ RoleName: plan.roleName, PolicyName: plan.policyName })),
  );
  let policyChange: Change = "unchanged";
  if (!sameDocument(current?.PolicyDocument, permissions)) {
    await call("writing the role's inline policy", () =>
      clients.iam.send(
        new iam.PutRolePolicyCommand({
          RoleName: plan.roleName,
          PolicyName: plan.policyName,
          PolicyDocument: permissions,
        }),
      ));
    policyChange = current ? "updated" : "created";
  }
  steps.push({ what: `inline policy ${plan.policyName} (allow ${plan.allow.join(", ")})`, change: policyChange });

  let profile = single(await allProfiles(clients), plan.profileName, "profile");
  let profileChange: Change = "unchanged";
  if (!profile) {
    profile = (await call("creating the profile", () =>
      clients.rolesAnywhere.send(
        new ra.CreateProfileCommand({
          name: plan.profileName,
          enabled: true,
          roleArns: [roleArn],
          durationSeconds: plan.durationSeconds,
        }),
      ))).profile;
    profileChange = "created";
  } else {
    const id = profile.profileId!;
    if (
      canonical(profile.roleArns ?? []) !== canonical([roleArn]) || profile.durationSeconds !== plan.durationSeconds
    ) {
      profile = (await call("updating the profile", () =>
        clients.rolesAnywhere.send(
          new ra.UpdateProfileCommand({ profileId: id, roleArns: [roleArn], durationSeconds: plan.durationSeconds }),
        ))).profile;
      profileChange = "updated";
    }
    if (!profile?.enabled) {
      profile = (await call("enabling the profile", () =>
        clients.rolesAnywhere.send(new ra.EnableProfileCommand({ profileId: id })))).profile;
      profileChange = "updated";
    }
  }
  const profileArn = profile!.profileArn!;
  steps.push({ what: `profile ${plan.profileName}`, change: profileChange, arn: profileArn });
  return { trustAnchorArn, roleArn, profileArn, steps };
}

export interface CleanupPlan {
  readonly roleName: string;
  readonly trustAnchorName: string;
  readonly profileName: string;
}

export async function cleanUp(clients: AwsClients, plan: CleanupPlan): Promise<Step[]> {
  const ra = clients.rolesAnywhereSdk;
  const iam = clients.iamSdk;
  const steps: Step[] = [];

  const profile = single(await allProfiles(clients), plan.profileName, "profile");
  if (profile) {
    await lookup(
      "deleting the profile",
      () => clients.rolesAnywhere.send(new ra.DeleteProfileCommand({ profileId: profile.profileId! })),
    );
  }
  steps.push({ what: `profile ${plan.profileName}`, change: profile ? "deleted" : "absent", arn: profile?.profileArn });

  const anchor = single(await allTrustAnchors(clients), plan.trustAnchorName, "trust anchor");
  if (anchor) {
    await lookup(
      "deleting the trust anchor",
      () => clients.rolesAnywhere.send(new ra.DeleteTrustAnchorCommand({ trustAnchorId: anchor.trustAnchorId! })),
    );
  }
  steps.push({
    what: `trust anchor ${plan.trustAnchorName}`,
    change: anchor ? "deleted" : "absent",
    arn: anchor?.trustAnchorArn,
  });

  // A role goes only once its inline policies are gone (IAM's DeleteConflict otherwise).
  const role =
    (await lookup("reading the role", () => clients.iam.send(new iam.GetRoleCommand({ RoleName: plan.roleName }))))
      ?.Role;
  if (role) {
    let marker: string | undefined;
    const names: string[] = [];
    do {
      const page = await call(
        "listing the role's inline policies",
        () => clients.iam.send(new iam.ListRolePoliciesCommand({ RoleName: plan.roleName, Marker: marker })),
      );
      names.push(...(page.PolicyNames ?? []));
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    for (const name of names) {
      await lookup(
        `deleting inline policy ${name}`,
        () => clients.iam.send(new iam.DeleteRolePolicyCommand({ RoleName: plan.roleName, PolicyName: name })),
      );
      steps.push({ what: `inline policy ${name}`, change: "deleted" });
    }
    await lookup("deleting the role", () => clients.iam.send(new iam.DeleteRoleCommand({ RoleName: plan.roleName })));
  }
  steps.push({ what: `role ${plan.roleName}`, change: role ? "deleted" : "absent", arn: role?.Arn });
  return steps;
}
