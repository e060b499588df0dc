/**
 * IAM Roles Anywhere's rules for the certificates it accepts, in one place: `certrole pki check`
 * reports them line by line and the emulator's CreateSession refuses a certificate path that
 * breaks one. Pure: certificates in, findings out (signatures and validity dates are checked
 * elsewhere, in chain.ts and by the callers).
 *
 * What the rules are based on: the service's trust model ("Signature verification",
 * https://docs.aws.amazon.com/rolesanywhere/latest/userguide/trust-model.html#signature-verification):
 * every certificate is X.509 v3 and signed with SHA-256 or stronger (SHA-1 and MD5 are
 * rejected); a CA certificate has basicConstraints CA:TRUE and keyUsage keyCertSign; the
 * end-entity certificate has basicConstraints CA:FALSE (or none) and keyUsage digitalSignature;
 * the chain is validated as RFC 5280 path validation, which is where pathLenConstraint comes in
 * (https://docs.aws.amazon.com/rolesanywhere/latest/userguide/public-key-infrastructure.html).
 * Key types: the signing process defines RSA (PKCS#1 v1.5) and ECDSA signatures
 * (authentication-sign-process.html); the guide states no sizes, so the sizes are those AWS
 * Private CA, the service's own CA option, issues (RSA 2048 and up, EC P-256 and P-384).
 * ML-DSA (FIPS 204): the service signs in with AWS4-X509-MLDSA and takes ML-DSA trust anchors and
 * certificates; AWS's helper (v1.8.0) signs with all three parameter sets and AWS Private CA
 * issues all three (ML_DSA_44/65/87), so all three are accepted, signed with pure ML-DSA (no
 * digest, RFC 9881), and any key type may sign any other along a path.
 *
 * Key types and signature algorithms are tables: a new algorithm is a new row.
 *
 * @example
 * ```ts
 * import { parseCertificate } from "./certificate.ts";
 *
 * const leaf = parseCertificate(await Deno.readFile("leaf.der"));
 * const anchor = parseCertificate(await Deno.readFile("ca.der"));
 * const broken = pathViolations([leaf, anchor]);
 * if (broken.length) console.log(broken[0]); // 'certificate "CN=x": signed with sha1WithRSAEncryption (SHA-1); ...'
 * ```
 */
import type { Certificate, PublicKeyInfo } from "./certificate.ts";
import { isSelfIssued, pssParameters } from "./chain.ts";
import { ML_DSA, OID, oidName } from "./oids.ts";

/** A certificate's place in a path: the end entity that signs in, or a CA above it. */
export type CertificateRole = "end-entity" | "ca";

export type RuleId = "x509-v3" | "signature-algorithm" | "key-type" | "basic-constraints" | "key-usage";

export interface RuleResult {
  readonly rule: RuleId;
  readonly ok: boolean;
  /** What holds, or what was found and what Roles Anywhere wants instead. */
  readonly text: string;
}

/** A kind of public key: which keys it covers, which of them Roles Anywhere accepts. */
export interface KeyTypeRule {
  readonly matches: (key: PublicKeyInfo) => boolean;
  readonly accepts: (key: PublicKeyInfo) => boolean;
  /** "RSA 2048-bit key": what the certificate has. */
  readonly describe: (key: PublicKeyInfo) => string;
  /** "RSA of 2048 bits or more": what is accepted, for the ✗ text. */
  readonly accepted: string;
}

export const KEY_TYPES: readonly KeyTypeRule[] = [
  {
    matches: (key) => key.type === "RSA",
    accepts: (key) => key.type === "RSA" && key.bits >= 2048,
    describe: (key) => `RSA ${key.type === "RSA" ? key.bits : "?"}-bit key`,
    accepted: "RSA of 2048 bits or more",
  },
  {
    matches: (key) => key.type === "EC",
    accepts: (key) => key.type === "EC" && (key.curve === "P-256" || key.curve === "P-384"),
    describe: (key) => key.type === "EC" ? `EC ${key.curve ?? oidName(key.curveOid)} key` : "EC key",
    accepted: "EC P-256 and P-384",
  },
  {
    matches: (key) => key.type === "ML-DSA",
    accepts: (key) => key.type === "ML-DSA",
    describe: (key) => `${key.type === "ML-DSA" ? key.parameterSet : "ML-DSA"} key`,
    accepted: "ML-DSA-44, -65 and -87",
  },
];

/** A signature algorithm: the digest it signs through (if any) and whether Roles Anywhere takes it. */
export interface SignatureAlgorithmRule {
  readonly oid: string;
  /** "SHA-256", ...; read from the parameters for RSASSA-PSS; undefined for algorithms without one. */
  readonly digest: (parameters: Uint8Array | undefined) => string | undefined;
  readonly accepts: (digest: string | undefined) => boolean;
  /** How `pki check` names it, when the OID's name would not do ("ML-DSA-65 (pure ML-DSA, FIPS 204)"). */
  readonly label?: string;
}

const STRONG_DIGESTS = new Set(["SHA-256", "SHA-384", "SHA-512"]);
const strongDigest = (digest: string | undefined) => digest !== undefined && STRONG_DIGESTS.has(digest);
const hashed = (oid: string, digest: string): SignatureAlgorithmRule => ({
  oid,
  digest: () => digest,
  accepts: strongDigest,
});

export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithmRule[] = [
  hashed(OID.md5WithRSAEncryption, "MD5"),
  hashed(OID.sha1WithRSAEncryption, "SHA-1"),
  hashed(OID.sha224WithRSAEncryption, "SHA-224"),
  hashed(OID.sha256WithRSAEncryption, "SHA-256"),
  hashed(OID.sha384WithRSAEncryption, "SHA-384"),
  hashed(OID.sha512WithRSAEncryption, "SHA-512"),
  { oid: OID.rsassaPss, digest: (parameters) => pssParameters(parameters).hash, accepts: strongDigest },
  hashed(OID.ecdsaWithSHA1, "SHA-1"),
  hashed(OID.ecdsaWithSHA224, "SHA-224"),
  hashed(OID.ecdsaWithSHA256, "SHA-256"),
  hashed(OID.ecdsaWithSHA384, "SHA-384"),
  hashed(OID.ecdsaWithSHA512, "SHA-512"),
  ...Object.entries(ML_DSA).map(([oid, { name }]) => ({
    oid,
    digest: () => undefined,
    accepts: () => true,
    label: `${name} (pure ML-DSA, FIPS 204)`,
  })),
];

/** What `key` is and what is accepted, from the row that covers it (none: not accepted). */
export function keyTypeFinding(key: PublicKeyInfo): { ok: boolean; found: string } {
  const row = KEY_TYPES.find((candidate) => candidate.matches(key));
  const found = row ? row.describe(key) : `${oidName(key.type === "other" ? key.algorithmOid : key.type)} key`;
  return { ok: row?.accepts(key) ?? false, found };
}

/** The key types Roles Anywhere accepts, in words: "RSA of 2048 bits or more, EC P-256 and P-384". */
export function acceptedKeyTypes(): string {
  return KEY_TYPES.map((row) => row.accepted).join(", ");
}

function signatureFinding(certificate: Certificate): { ok: boolean; name: string; digest?: string } {
  const { oid, parameters } = certificate.signatureAlgorithm;
  const row = SIGNATURE_ALGORITHMS.find((candidate) => candidate.oid === oid);
  let digest: string | undefined;
  try {
    digest = row?.digest(parameters);
  } catch {
    return { ok: false, name: `${oidName(oid)} with unreadable parameters` };
  }
  return { ok: row?.accepts(digest) ?? false, name: row?.label ?? oidName(oid), digest };
}

/** Each rule for one certificate in its role, ✓ or ✗ with the words `pki check` prints. */
export function checkCertificate(certificate: Certificate, role: CertificateRole): RuleResult[] {
  const results: RuleResult[] = [];
  const v3 = certificate.version === 3;
  results.push({
    rule: "x509-v3",
    ok: v3,
    text: v3 ? "X.509 v3" : `X.509 v${certificate.version}, Roles Anywhere requires v3`,
  });

  const signature = signatureFinding(certificate);
  results.push({
    rule: "signature-algorithm",
    ok: signature.ok,
    text: signature.ok
      ? `signed with ${signature.name}${signature.digest ? " (SHA-256 or stronger)" : ""}`
      : `signed with ${signature.name}${
        signature.digest ? ` (${signature.digest})` : ""
      }; Roles Anywhere requires SHA-256 or stronger and rejects SHA-1 and MD5`,
  });

  const key = keyTypeFinding(certificate.publicKey);
  results.push({
    rule: "key-type",
    ok: key.ok,
    text: key.ok ? key.found : `${key.found}; Roles Anywhere accepts ${acceptedKeyTypes()}`,
  });

  const constraints = certificate.basicConstraints;
  const usage = certificate.keyUsage;
  if (role === "end-entity") {
    const notCa = !constraints?.ca;
    results.push({
      rule: "basic-constraints",
      ok: notCa,
      text: notCa
        ? `basicConstraints ${constraints ? "CA:FALSE" : "absent (not a CA)"}`
        : "basicConstraints CA:TRUE: a CA certificate cannot sign in to Roles Anywhere",
    });
    const signs = usage?.digitalSignature === true;
    results.push({
      rule: "key-usage",
      ok: signs,
      text: signs
        ? "keyUsage digitalSignature"
        : usage
        ? "keyUsage lacks digitalSignature, which Roles Anywhere requires"
        : "no keyUsage extension; Roles Anywhere requires keyUsage digitalSignature",
    });
  } else {
    const isCa = constraints?.ca === true;
    results.push({
      rule: "basic-constraints",
      ok: isCa,
      text: isCa
        ? "basicConstraints CA:TRUE"
        : constraints
        ? "basicConstraints CA:FALSE: not a CA"
        : "no basicConstraints extension: not a CA",
    });
    const certSign = usage?.keyCertSign === true;
    results.push({
      rule: "key-usage",
      ok: certSign,
      text: certSign
        ? "keyUsage keyCertSign"
        : usage
        ? "keyUsage lacks keyCertSign, which Roles Anywhere requires of a CA"
        : "no keyUsage extension; Roles Anywhere requires keyUsage keyCertSign of a CA",
    });
  }
  return results;
}

/**
 * RFC 5280 6.1.4 (l, m): a CA's pathLenConstraint bounds the non-self-issued intermediate CAs
 * between it and the end entity. `path` runs end entity first, trust anchor last. The anchor's
 * own constraint counts too, as OpenSSL and Go's crypto/x509 apply it.
 */
export function pathLengthViolation(path: readonly Certificate[]): string | undefined {
  for (let index = 1; index < path.length; index++) {
    const limit = path[index].basicConstraints?.pathLength;
    if (limit === undefined) continue;
    const below = path.slice(1, index).filter((certificate) => !isSelfIssued(certificate)).length;
    if (below > limit) {
      return `pathLenConstraint ${limit} of "${path[index].subject.text}" allows ${
        limit === 0 ? "no intermediate CA" : `${limit} intermediate CA${limit === 1 ? "" : "s"}`
      } below it, and the chain has ${below}`;
    }
  }
  return undefined;
}

/**
 * Every rule the path breaks, as sentences naming the certificate: the end entity's rules, each
 * CA's (intermediates and the anchor), then the path length. Empty when Roles Anywhere accepts it.
 */
export function pathViolations(path: readonly Certificate[]): string[] {
  const violations: string[] = [];
  path.forEach((certificate, index) => {
    const role: CertificateRole = index === 0 ? "end-entity" : "ca";
    const what = index === 0 ? "certificate" : index === path.length - 1 ? "trust anchor" : "intermediate CA";
    for (const result of checkCertificate(certificate, role)) {
      if (!result.ok) violations.push(`${what} "${certificate.subject.text}": ${result.text}`);
    }
  });
  const length = pathLengthViolation(path);
  if (length) violations.push(length);
  return violations;
}
