/**
 * The emulator's CreateSession: everything IAM Roles Anywhere checks before it vends
 * credentials. The SigV4-X509 signature (canonical request rebuilt by the AWS SDK's signer,
 * verified with the certificate's key: RSA, ECDSA or ML-DSA, the algorithm matching the key),
 * X-Amz-Date within 5 minutes, the credential scope, the trust anchor, profile and role ARNs
 * in the endpoint's partition and the trust anchor and profile in its region
 * (ValidationException otherwise), the certificate's validity and its chain to the trust
 * anchor through X-Amz-X509-Chain, the path against Roles Anywhere's certificate rules
 * (identity/roles_anywhere_rules.ts), trust anchor and profile enabled, the role listed in the
 * profile, the role's trust policy evaluated against the certificate's attributes, and the
 * requested duration.
 */
import { tryParseArn } from "../arn.ts";
import { type Certificate, validityAt } from "../identity/certificate.ts";
import { verifyChain } from "../identity/chain.ts";
import { ecdsaDerToRaw } from "../identity/der.ts";
import { CURVES } from "../identity/oids.ts";
import { pathViolations } from "../identity/roles_anywhere_rules.ts";
import { PolicyError } from "./policy/document.ts";
import { evaluate } from "./policy/evaluate.ts";
import { principalTags, trustPolicyKeys } from "./principal_tags.ts";
import { accessDenied, notFound, validation } from "./fault.ts";
import { anchorCertificates, certificateFromBase64, policyFromText, verificationKey } from "./parsed_cache.ts";
import { parseAmzDate, type ParsedAuthorization, type ReceivedRequest, x509StringToSign } from "./sigv4_verify.ts";
import {
  arnOf,
  type EmulatorState,
  type IssuedSession,
  partitionOf,
  type Profile,
  randomId,
  randomSecret,
  type Role,
} from "./state.ts";
import { isoSeconds } from "../iso_time.ts";

export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

function parseCertificateHeader(value: string, what: string): Certificate {
  try {
    return certificateFromBase64(value);
  } catch {
    throw validation(`${what} is not a base64 DER X.509 certificate`);
  }
}

/** Verifies the SigV4-X509 signature over the request with the certificate's public key. */
async function verifyX509Signature(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  certificate: Certificate,
): Promise<boolean> {
  const stringToSign = new TextEncoder().encode(await x509StringToSign(request, auth));
  const key = certificate.publicKey;
  try {
    const signature = Uint8Array.fromHex(auth.signature); // throws on an odd number of digits
    const spki = key.spki.toBase64();
    if (auth.algorithm === "AWS4-X509-RSA-SHA256" && key.type === "RSA") {
      const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
      const publicKey = await verificationKey(`${spki}|RSASSA-PKCS1-v1_5|SHA-256`);
      return await crypto.subtle.verify(algorithm, publicKey, signature, stringToSign);
    }
    if (auth.algorithm === "AWS4-X509-ECDSA-SHA256" && key.type === "EC" && key.curve) {
      const publicKey = await verificationKey(`${spki}|ECDSA|${key.curve}`);
      const raw = ecdsaDerToRaw(signature, CURVES[key.curveOid].size);
      return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, raw, stringToSign);
    }
    // Pure ML-DSA over the string to sign, empty context: no digest, no DER wrapping.
    if (auth.algorithm === "AWS4-X509-MLDSA" && key.type === "ML-DSA") {
      const publicKey = await verificationKey(`${spki}|${key.parameterSet}`);
      return await crypto.subtle.verify({ name: key.parameterSet }, publicKey, signature, stringToSign);
    }
  } catch {
    return false; // malformed signature (odd hex, bad DER)
  }
  return false;
}

export interface SessionRequestContext {
  readonly state: EmulatorState;
  readonly now: Date;
  /** --credential-lifetime: credentials expire after this many seconds when that is sooner. */
  readonly credentialLifetimeSeconds?: number;
}

export async function createSession(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  { state, now, credentialLifetimeSeconds }: SessionRequestContext,
): Promise<{ session: IssuedSession; body: unknown }> {
  const { leaf, intermediates } = await signedCertificates(request, auth, state.region, now);
  const { trustAnchorArn, profileArn, roleArn } = requestedArns(state, request.url.searchParams);
  await requireTrustedPath(state, trustAnchorArn, leaf, intermediates, now);
  const { profile, role } = listedRole(state, profileArn, roleArn);
  const tags = principalTags(leaf);
  const keys = trustPolicyKeys(leaf, tags, trustAnchorArn);
  requireTrustPolicyAllows(role, keys);
  const { durationSeconds, roleSessionName } = sessionParameters(request.body, profile, leaf);

  const lifetimeSeconds = Math.min(durationSeconds, credentialLifetimeSeconds ?? durationSeconds);
  const session: IssuedSession = {
    accessKeyId: `ASIA${randomId(16)}`,
    secretAccessKey: randomSecret(30),
    sessionToken: `IQoJb3JpZ2luX2VjE${randomSecret(300)}`,
    expiration: isoSeconds(new Date(now.getTime() + lifetimeSeconds * 1000)),
    issuedAt: isoSeconds(now),
    roleArn,
    roleSessionName,
    sessionPolicy: profile.sessionPolicy,
    trustAnchorArn,
    profileArn,
    certificateSerial: leaf.serialDecimal,
    principalTags: tags,
    sourceIdentity: keys["sts:SourceIdentity"],
  };
  return { session, body: responseBody(session, role, state) };
}

/**
 * The credential scope and signed headers, the certificates of X-Amz-X509 and X-Amz-X509-Chain,
 * the Credential serial, X-Amz-Date's skew and the SigV4-X509 signature itself: what makes the
 * request the certificate holder's, before any resource is looked up.
 */
async function signedCertificates(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  region: string,
  now: Date,
): Promise<{ leaf: Certificate; intermediates: Certificate[] }> {
  if (auth.service !== "rolesanywhere") {
    throw accessDenied(`Credential scope names service "${auth.service}", not rolesanywhere`);
  }
  if (auth.region !== region) {
    throw accessDenied(`Credential scope region ${auth.region} is not this endpoint's region ${region}`);
  }
  for (const required of ["host", "x-amz-date", "x-amz-x509"]) {
    if (!auth.signedHeaders.includes(required)) {
      throw accessDenied(`Invalid signature: header ${required} is not signed`);
    }
  }
  const x509 = request.headers.get("x-amz-x509");
  if (!x509) throw accessDenied("Missing X-Amz-X509 header");
  const leaf = parseCertificateHeader(x509, "X-Amz-X509");
  const chainHeader = request.headers.get("x-amz-x509-chain");
  if (chainHeader && !auth.signedHeaders.includes("x-amz-x509-chain")) {
    throw accessDenied("Invalid signature: header x-amz-x509-chain is not signed");
  }
  const intermediates = chainHeader
    ? chainHeader.split(",").map((part, index) => parseCertificateHeader(part, `X-Amz-X509-Chain entry ${index + 1}`))
    : [];
  if (auth.credential !== leaf.serialDecimal) {
    throw accessDenied("Invalid signature: the Credential serial does not match the X-Amz-X509 certificate");
  }
  const signedAt = parseAmzDate(request.headers.get("x-amz-date"));
  if (!signedAt) throw accessDenied("X-Amz-Date is missing or malformed");
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw accessDenied(
      `Signature expired: X-Amz-Date ${request.headers.get("x-amz-date")} is more than 5 minutes from the server time`,
    );
  }
  if (auth.date !== request.headers.get("x-amz-date")!.slice(0, 8)) {
    throw accessDenied("Credential scope date does not match X-Amz-Date");
  }
  if (!(await verifyX509Signature(request, auth, leaf))) throw accessDenied("Invalid signature");
  return { leaf, intermediates };
}

function requestedArns(
  state: EmulatorState,
  query: URLSearchParams,
): { trustAnchorArn: string; profileArn: string; roleArn: string } {
  const trustAnchorArn = query.get("trustAnchorArn");
  const profileArn = query.get("profileArn");
  const roleArn = query.get("roleArn");
  if (!trustAnchorArn || !profileArn || !roleArn) {
    throw validation("profileArn, roleArn and trustAnchorArn are required query parameters");
  }
  requireEndpointArns(state, { trustAnchorArn, profileArn, roleArn });
  return { trustAnchorArn, profileArn, roleArn };
}

/**
 * Roles Anywhere is regional: an endpoint holds the trust anchors and profiles of its own region
 * and vends roles of its own partition, so an ARN of another partition or region (an arn:aws-cn
 * trust anchor at us-east-1, a profile in another region than the trust anchor) names nothing it
 * can use. CreateSession's API reference documents two errors, AccessDeniedException (403) for
 * requests it does not authenticate and ValidationException (400) for input that fails
 * validation; the signature here is valid and the input is what is wrong, so ValidationException.
 * The message naming the mismatch is the emulator's own (AWS's wording is not documented).
 */
function requireEndpointArns(
  state: EmulatorState,
  arns: { trustAnchorArn: string; profileArn: string; roleArn: string },
): void {
  const partition = partitionOf(state);
  for (const [name, text] of Object.entries(arns)) {
    const arn = tryParseArn(text);
    if (!arn) throw validation(`${name} ${text} is not an ARN`);
    if (arn.partition !== partition) {
      throw validation(`${name} ${text} is in partition ${arn.partition}, not this endpoint's ${partition}`);
    }
    if (name !== "roleArn" && arn.region !== state.region) {
      throw validation(`${name} ${text} is in region ${arn.region}, not this endpoint's ${state.region}`);
    }
  }
}

/** The trust anchor exists and is enabled, and the certificate is valid now and chains to it by the rules. */
async function requireTrustedPath(
  state: EmulatorState,
  trustAnchorArn: string,
  leaf: Certificate,
  intermediates: Certificate[],
  now: Date,
): Promise<void> {
  const anchor = Object.values(state.trustAnchors).find((candidate) => candidate.trustAnchorArn === trustAnchorArn);
  if (!anchor) throw notFound(`Trust anchor ${trustAnchorArn} not found`);
  if (!anchor.enabled) throw accessDenied("Trust anchor is disabled");
  const validity = validityAt(leaf, now);
  if (validity !== "valid") {
    throw accessDenied(validity === "expired" ? "Certificate has expired" : "Certificate is not yet valid");
  }
  const chain = await verifyChain(
    leaf,
    intermediates,
    anchorCertificates(anchor.source.sourceData.x509CertificateData),
    now,
  );
  if (!chain.ok) throw accessDenied("Untrusted signing certificate");
  // The service answers every path it does not trust with this one AccessDeniedException
  // (aws/rolesanywhere-credential-helper#108); the emulator adds which rule the path breaks.
  const broken = pathViolations([...chain.path, chain.anchor]);
  if (broken.length) throw accessDenied(`Untrusted signing certificate: ${broken[0]}`);
}

/** The profile exists, is enabled and lists the role, which exists. */
function listedRole(state: EmulatorState, profileArn: string, roleArn: string): { profile: Profile; role: Role } {
  const profile = Object.values(state.profiles).find((candidate) => candidate.profileArn === profileArn);
  if (!profile) throw notFound(`Profile ${profileArn} not found`);
  if (!profile.enabled) throw accessDenied("Profile is disabled");
  if (!profile.roleArns.includes(roleArn)) {
    throw accessDenied(`Role ${roleArn} is not listed in profile ${profile.name}`);
  }
  const role = Object.values(state.roles).find((candidate) => candidate.arn === roleArn);
  if (!role) throw accessDenied(`Unable to assume role ${roleArn}: role does not exist`);
  return { profile, role };
}

/** The role's trust policy allows Roles Anywhere to assume it, tag the session and set its source identity. */
function requireTrustPolicyAllows(role: Role, keys: ReturnType<typeof trustPolicyKeys>): void {
  let trustPolicy;
  try {
    trustPolicy = policyFromText(role.assumeRolePolicyDocument);
  } catch (error) {
    throw accessDenied(
      `Unable to assume role ${role.arn}: its trust policy is invalid (${(error as PolicyError).message})`,
    );
  }
  for (const action of ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]) {
    const decision = evaluate([trustPolicy], {
      action,
      resource: role.arn,
      principal: { Service: "rolesanywhere.amazonaws.com" },
      keys,
    });
    if (decision !== "Allow") {
      throw accessDenied(
        `Unable to assume role ${role.arn}: its trust policy does not allow ${action} for this certificate`,
      );
    }
  }
}

/** durationSeconds and roleSessionName from the request body, checked against the profile. */
function sessionParameters(
  requestBody: Uint8Array,
  profile: Profile,
  leaf: Certificate,
): { durationSeconds: number; roleSessionName: string } {
  let body: { durationSeconds?: unknown; roleSessionName?: unknown } = {};
  const text = new TextDecoder().decode(requestBody);
  if (text.trim()) {
    try {
      body = JSON.parse(text);
    } catch {
      throw validation("Request body is not valid JSON");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw validation("Request body must be a JSON object");
    }
  }
  const durationSeconds = body.durationSeconds ?? 3600;
  if (
    typeof durationSeconds !== "number" || !Number.isInteger(durationSeconds) || durationSeconds < 900 ||
    durationSeconds > 43200
  ) {
    throw validation("durationSeconds must be an integer from 900 to 43200");
  }
  if (durationSeconds > profile.durationSeconds) {
    throw validation(`durationSeconds ${durationSeconds} exceeds the profile's maximum of ${profile.durationSeconds}`);
  }
  // A profile names the session unless it accepts the caller's name. The answer to a name it
  // does not accept is the one AWS gave (aws/rolesanywhere-credential-helper#19); the API
  // reference says only that acceptRoleSessionName decides it.
  if (body.roleSessionName !== undefined && !profile.acceptRoleSessionName) {
    throw accessDenied("Not authorized to set roleSessionName.");
  }
  // AWS names the session after the certificate's serial, hex, two digits per byte.
  const serialHex = leaf.serial.toString(16);
  const roleSessionName = body.roleSessionName ?? (serialHex.length % 2 ? `0${serialHex}` : serialHex);
  if (typeof roleSessionName !== "string" || !/^[\w+=,.@-]{2,64}$/.test(roleSessionName)) {
    throw validation("roleSessionName must be 2 to 64 characters of [\\w+=,.@-]");
  }
  return { durationSeconds, roleSessionName };
}

/** CreateSession's answer: the credential set and a fresh subject ARN. */
function responseBody(session: IssuedSession, role: Role, state: EmulatorState): unknown {
  return {
    credentialSet: [{
      assumedRoleUser: {
        arn: arnOf(state, "sts", `assumed-role/${role.roleName}/${session.roleSessionName}`),
        assumedRoleId: `${role.roleId}:${session.roleSessionName}`,
      },
      credentials: {
        accessKeyId: session.accessKeyId,
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
        expiration: session.expiration,
      },
      packedPolicySize: 0,
      roleArn: session.roleArn,
      sourceIdentity: session.sourceIdentity,
    }],
    subjectArn: arnOf(state, "rolesanywhere", `subject/${crypto.randomUUID()}`),
  };
}
