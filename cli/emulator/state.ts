/**
 * What the emulator remembers: IAM roles with their inline policies and tags, Roles Anywhere
 * trust anchors and profiles with their tags, issued temporary credentials, S3 buckets, administrator keys. Plain
 * JSON-able data, kept in memory and, with --state DIR, written atomically after each change
 * and read back at start. Collections keyed by names or ids that callers choose are
 * null-prototype objects (`keyed()`), so a role named `constructor` or `__proto__` is just a
 * name, never an inherited property.
 */
import { writeFileAtomically } from "../atomic_write.ts";

import { partitionOfRegion } from "../aws_partitions.ts";

/** A resource tag. Lists of them keep the order tags were added in, as the services list them. */
export interface Tag {
  readonly key: string;
  readonly value: string;
}

export interface Role {
  readonly roleName: string;
  readonly roleId: string;
  readonly arn: string;
  readonly path: string;
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDuration: number;
  readonly createDate: string;
  /** Inline policies by name: the JSON text as given. */
  policies: Record<string, string>;
  /** Absent in states saved before tags existed. */
  tags?: Tag[];
}

export interface TrustAnchor {
  readonly trustAnchorId: string;
  readonly trustAnchorArn: string;
  name: string;
  enabled: boolean;
  source: {
    readonly sourceType: "CERTIFICATE_BUNDLE";
    readonly sourceData: { readonly x509CertificateData: string };
  };
  readonly createdAt: string;
  updatedAt: string;
  /** Absent in states saved before tags existed. */
  tags?: Tag[];
}

export interface Profile {
  readonly profileId: string;
  readonly profileArn: string;
  name: string;
  enabled: boolean;
  roleArns: string[];
  durationSeconds: number;
  sessionPolicy?: string;
  managedPolicyArns: string[];
  requireInstanceProperties: boolean;
  /** Whether CreateSession may name the session (roleSessionName); absent in states saved before it existed. */
  acceptRoleSessionName?: boolean;
  readonly createdBy: string;
  readonly createdAt: string;
  updatedAt: string;
  /** Absent in states saved before tags existed. */
  tags?: Tag[];
}

/** Temporary credentials handed out by CreateSession. */
export interface IssuedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: string;
  /** When CreateSession issued it (aws:TokenIssueTime); absent in states saved before it was kept. */
  readonly issuedAt?: string;
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly sessionPolicy?: string;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly certificateSerial: string;
  /** Session tags from the certificate (x509Subject/CN, ...), for aws:PrincipalTag conditions. */
  readonly principalTags: Readonly<Record<string, string>>;
  readonly sourceIdentity?: string;
}

export interface Bucket {
  readonly name: string;
  readonly creationDate: string;
  readonly owner: string;
}

export interface AdminKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /**
   * Made by the emulator (saved with the state, so a restart keeps it); a key the user gave
   * is never written to disk.
   */
  readonly generated?: boolean;
}

export interface EmulatorState {
  readonly accountId: string;
  readonly region: string;
  roles: Record<string, Role>;
  trustAnchors: Record<string, TrustAnchor>;
  profiles: Record<string, Profile>;
  sessions: Record<string, IssuedSession>;
  buckets: Record<string, Bucket>;
  admins: Record<string, AdminKey>;
  /** CreateSession calls answered with credentials, for tests and benchmarks. */
  sessionsIssued: number;
}

/** The partition of the emulated region: the one its ARNs name (arn:aws-cn:… in cn-north-1). */
export function partitionOf(state: Pick<EmulatorState, "region">): string {
  return partitionOfRegion(state.region)?.id ?? "aws";
}

/**
 * An ARN of the emulator's own resources, in its partition: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
 * Roles Anywhere is regional; IAM and STS are global (no region) and S3 bucket ARNs name neither
 * region nor account, as AWS writes them.
 */
export function arnOf(
  state: Pick<EmulatorState, "region" | "accountId">,
  service: "rolesanywhere" | "iam" | "sts" | "s3",
  resource: string,
): string {
  const region = service === "rolesanywhere" ? state.region : "";
  const account = service === "s3" ? "" : state.accountId;
  return `arn:${partitionOf(state)}:${service}:${region}:${account}:${resource}`;
}

/** A record with no prototype: `record["constructor"]` is undefined until someone stores it. */
export function keyed<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) record[key] = value;
  return record;
}

export function emptyState(accountId: string, region: string): EmulatorState {
  return {
    accountId,
    region,
    roles: keyed(),
    trustAnchors: keyed(),
    profiles: keyed(),
    sessions: keyed(),
    buckets: keyed(),
    admins: keyed(),
    sessionsIssued: 0,
  };
}

/** AWS's access key and unique IDs are base32 after their four-letter prefix (AKIA, ASIA, AROA). */
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** `length` base32 characters: ASIA + 16 is an access key ID of STS's 20 characters. */
export function randomId(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (byte) => BASE32[byte % BASE32.length]).join("");
}

/**
 * Base64 (with + and /, without padding) of `bytes` random bytes: 30 bytes give the 40 characters
 * of an AWS secret access key (IAM's example: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY).
 */
export function randomSecret(bytes: number): string {
  return crypto.getRandomValues(new Uint8Array(bytes)).toBase64().replace(/=+$/, "");
}

/** Forgets credentials that have expired (they can only be refused from now on). */
export function pruneSessions(state: EmulatorState, now: Date): void {
  for (const [id, session] of Object.entries(state.sessions)) {
    if (Date.parse(session.expiration) <= now.getTime()) delete state.sessions[id];
  }
}

export const STATE_FILE = "emulator-state.json";

function isState(value: unknown): value is EmulatorState {
  const state = value as EmulatorState;
  return typeof state === "object" && state !== null && typeof state.accountId === "string" &&
    typeof state.region === "string" &&
    ["roles", "trustAnchors", "profiles", "sessions", "buckets", "admins"].every((key) =>
      typeof (state as unknown as Record<string, unknown>)[key] === "object"
    );
}

export async function loadState(dir: string): Promise<EmulatorState | undefined> {
  const path = `${dir}/${STATE_FILE}`;
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`emulator state "${path}" is unreadable (${error instanceof Error ? error.message : error})`);
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    state = undefined;
  }
  if (!isState(state)) throw new Error(`emulator state "${path}" is corrupt: move it away to start fresh`);
  state.sessionsIssued ??= 0;
  // JSON.parse gives ordinary objects (own "__proto__" keys included): give them no prototype.
  state.roles = keyed(
    Object.entries(state.roles).map((
      [name, role],
    ) => [name, { ...role, policies: keyed(Object.entries(role.policies ?? {})) }]),
  );
  state.trustAnchors = keyed(Object.entries(state.trustAnchors));
  state.profiles = keyed(Object.entries(state.profiles));
  state.sessions = keyed(Object.entries(state.sessions));
  state.buckets = keyed(Object.entries(state.buckets));
  state.admins = keyed(Object.entries(state.admins));
  return state;
}

/**
 * Written atomically: a crash mid-write leaves the previous state intact. Administrator keys the
 * user gave stay out of the file.
 */
export async function saveState(dir: string, state: EmulatorState): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const admins = Object.fromEntries(Object.entries(state.admins).filter(([, admin]) => admin.generated));
  await writeFileAtomically(`${dir}/${STATE_FILE}`, JSON.stringify({ ...state, admins }), { mode: 0o600 });
}
