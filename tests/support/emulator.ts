/**
 * An emulator seeded for the walkthrough: trust anchor on a CA, a bucket-lister role whose
 * trust policy requires CN=myContainer, an inline policy, and a profile. Seeded through the
 * same resource functions the control-plane API calls.
 */
import { createProfile, createRole, createTrustAnchor, putRolePolicy } from "../../cli/emulator/resources.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../cli/emulator/server.ts";
import { permissionsPolicy, trustPolicy } from "../../cli/iam/documents.ts";

export interface Walkthrough {
  readonly emulator: Emulator;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly trustAnchorId: string;
  readonly profileId: string;
}

export const LIST_BUCKETS_POLICY = JSON.stringify(permissionsPolicy({ allow: ["s3:ListAllMyBuckets"] }));

export async function startWalkthrough(
  caPem: string,
  options: EmulatorOptions & { cn?: string; durationSeconds?: number } = {},
): Promise<Walkthrough> {
  const emulator = await startEmulator(options);
  const now = new Date();
  const role = createRole(emulator.state, {
    roleName: "bucket-lister",
    assumeRolePolicyDocument: JSON.stringify(trustPolicy({ cn: options.cn ?? "myContainer" })),
  }, now);
  putRolePolicy(emulator.state, "bucket-lister", "list-buckets", LIST_BUCKETS_POLICY);
  const anchor = createTrustAnchor(emulator.state, {
    name: "myPrivateCA",
    enabled: true,
    source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: caPem } },
  }, now);
  const profile = createProfile(emulator.state, {
    name: "bucket-lister",
    roleArns: [role.arn],
    enabled: true,
    durationSeconds: options.durationSeconds ?? 3600,
  }, now);
  return {
    emulator,
    trustAnchorArn: anchor.trustAnchorArn,
    profileArn: profile.profileArn,
    roleArn: role.arn,
    trustAnchorId: anchor.trustAnchorId,
    profileId: profile.profileId,
  };
}

/** ROLESANYWHERE_* variables for a walkthrough and a leaf certificate. */
export function sessionEnv(
  walkthrough: Walkthrough,
  leaf: { cert: string; key: string; passphrase?: string },
): Record<string, string> {
  return {
    ROLESANYWHERE_CERT_LOCATION: leaf.cert,
    ROLESANYWHERE_KEY_LOCATION: leaf.key,
    ...(leaf.passphrase ? { ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase } : {}),
    ROLESANYWHERE_TRUST_ANCHOR_ARN: walkthrough.trustAnchorArn,
    ROLESANYWHERE_PROFILE_ARN: walkthrough.profileArn,
    ROLESANYWHERE_ROLE_ARN: walkthrough.roleArn,
    ROLESANYWHERE_ENDPOINT: walkthrough.emulator.url,
  };
}
