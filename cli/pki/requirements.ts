/**
 * IAM Roles Anywhere's certificate requirements, checked: the walkthrough's "verify the CA and
 * certificate" step as a report of ✓/✗ results, each failure saying what to change, plus
 * warnings that do not fail the check (expiry coming up). Pure: certificates, the optional key,
 * the time and the warning windows are inputs; the only work done is signature verification.
 *
 * The rules themselves (X.509 v3, SHA-256 or stronger, key types, basicConstraints and keyUsage
 * by role, pathLenConstraint) live in identity/roles_anywhere_rules.ts, which the emulator's
 * CreateSession enforces too; this module adds validity, the signature chain, the key match,
 * the fixes and the warnings.
 *
 * @example
 * ```ts
 * import { parseCertificate } from "../identity/certificate.ts";
 *
 * const ca = { file: "ca.der", certificate: parseCertificate(await Deno.readFile("ca.der")) };
 * const leaf = { file: "leaf.der", certificate: parseCertificate(await Deno.readFile("leaf.der")) };
 * const report = await checkRequirements({ ca, leaf, now: new Date() });
 * console.log(formatReport(report));
 * ```
 */
import { formatDuration } from "../duration.ts";
import { type Certificate, validityAt } from "../identity/certificate.ts";
import { verifiableScheme, verifyChain } from "../identity/chain.ts";
import { keyMatchesCertificate } from "../identity/identity.ts";
import { oidName } from "../identity/oids.ts";
import { checkCertificate, pathLengthViolation, type RuleId } from "../identity/roles_anywhere_rules.ts";
import type { PrivateKey } from "../identity/private_key.ts";
import { isoSeconds } from "../iso_time.ts";

/** Which checked item a result is about: "ca", "intermediate-1", "leaf" or "key". */
export type ItemId = string;

export interface RequirementResult {
  readonly item: ItemId;
  /** Stable identifier for automation: "x509-v3", "signature-algorithm", "key-type", ... */
  readonly id: string;
  readonly ok: boolean;
  /** What holds, or what was found instead. */
  readonly text: string;
  /** What to change; present exactly when `ok` is false. */
  readonly fix?: string;
}

export interface Warning {
  readonly item: ItemId;
  readonly id: string;
  readonly text: string;
  readonly fix: string;
}

export interface CheckedItem {
  readonly id: ItemId;
  /** "CA certificate", "intermediate certificate 1", "certificate", "private key". */
  readonly label: string;
  readonly file: string;
  /** Subject DN, validity: certificates only. */
  readonly name?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
}

export interface RequirementsReport {
  /** True when every requirement holds (warnings do not count). */
  readonly ok: boolean;
  readonly checkedAt: string;
  readonly items: readonly CheckedItem[];
  readonly requirements: readonly RequirementResult[];
  readonly warnings: readonly Warning[];
}

export interface RequirementsInput {
  readonly ca: { readonly file: string; readonly certificate: Certificate };
  readonly leaf: { readonly file: string; readonly certificate: Certificate };
  readonly intermediates?: { readonly file: string; readonly certificates: readonly Certificate[] };
  readonly key?: { readonly file: string; readonly key: PrivateKey };
  readonly now: Date;
  /** Warn when the leaf expires within this many ms. Default: a third of its lifetime. */
  readonly leafWarnWithin?: number;
  /** Warn when the CA or an intermediate expires within this many ms. Default 30 days. */
  readonly caWarnWithin?: number;
}

/**
 * The leaf warns in the last third of its lifetime, as certificate renewers such as cert-manager
 * renew: 8 hours for a 1-day certificate, 30 days for a 90-day one. A fixed window would warn on
 * every fresh short-lived certificate, the kind Roles Anywhere is meant for.
 */
export function defaultLeafWarnWithin(certificate: Certificate): number {
  return Math.round((certificate.notAfter.getTime() - certificate.notBefore.getTime()) / 3);
}
export const DEFAULT_CA_WARN_WITHIN = 30 * 86_400_000;

type Role = "ca" | "intermediate" | "leaf";

/** How to fix a certificate, by role: re-issue the leaf, re-create a CA. */
function remake(role: Role, what: string): string {
  if (role === "leaf") return `re-issue the certificate ${what}, or use certrole pki issue`;
  if (role === "ca") return `re-create the CA certificate ${what}, or use certrole pki init-ca`;
  return `re-issue the intermediate CA certificate ${what}`;
}

/** What to change when a rule fails, by rule and role. */
function fixFor(rule: RuleId, role: Role): string {
  switch (rule) {
    case "x509-v3":
      return remake(
        role,
        role === "leaf"
          ? "with v3 extensions (openssl x509 -req ... -extfile v3.ext)"
          : "with v3 extensions (openssl req -x509 -addext basicConstraints=critical,CA:TRUE ...)",
      );
    case "signature-algorithm":
      return remake(role, "signed with SHA-256 (openssl ... -sha256)");
    case "key-type":
      return remake(role, "for a new RSA 2048+, EC P-256/P-384 or ML-DSA key (--key-type)");
    case "basic-constraints":
      return remake(
        role,
        role === "leaf"
          ? "with basicConstraints = CA:FALSE (the walkthrough's v3.ext)"
          : "with basicConstraints = critical, CA:TRUE",
      );
    case "key-usage":
      return remake(
        role,
        role === "leaf"
          ? "with keyUsage = critical, digitalSignature"
          : "with keyUsage = critical, keyCertSign, cRLSign",
      );
  }
}

function commonRequirements(item: ItemId, role: Role, certificate: Certificate, now: Date): RequirementResult[] {
  const results: RequirementResult[] = checkCertificate(certificate, role === "leaf" ? "end-entity" : "ca")
    .map(({ rule, ok, text }) => ({ item, id: rule, ok, text, fix: ok ? undefined : fixFor(rule, role) }));

  const window = `${isoSeconds(certificate.notBefore)} to ${isoSeconds(certificate.notAfter)}`;
  const state = validityAt(certificate, now);
  results.push({
    item,
    id: "validity",
    ok: state === "valid",
    text: state === "valid"
      ? `valid now (${window})`
      : state === "expired"
      ? `expired at ${isoSeconds(certificate.notAfter)} (valid ${window})`
      : `not valid until ${isoSeconds(certificate.notBefore)} (valid ${window})`,
    fix: state === "valid"
      ? undefined
      : state === "expired"
      ? remake(role, "with new dates")
      : "check this machine's clock, or wait until the certificate's start date",
  });
  return results;
}

/** A certificate to check: where it sits in the path, where it came from, when to warn before it expires. */
interface CertificateUnderCheck {
  readonly id: ItemId;
  readonly label: string;
  readonly file: string;
  readonly certificate: Certificate;
  readonly role: Role;
  readonly warnWithin: number;
  /** What to do before it expires. */
  readonly renew: string;
}

/** Evaluates every requirement; see the module comment for the list. */
export async function checkRequirements(input: RequirementsInput): Promise<RequirementsReport> {
  const { ca, leaf, now } = input;
  const intermediates = input.intermediates?.certificates ?? [];
  const caWarnWithin = input.caWarnWithin ?? DEFAULT_CA_WARN_WITHIN;
  const certificates: CertificateUnderCheck[] = [
    {
      id: "ca",
      label: "CA certificate",
      file: ca.file,
      certificate: ca.certificate,
      role: "ca",
      warnWithin: caWarnWithin,
      renew: "create a new CA and register it as the trust anchor before then",
    },
    ...intermediates.map((certificate, index): CertificateUnderCheck => ({
      id: `intermediate-${index + 1}`,
      label: `intermediate certificate ${index + 1}`,
      file: input.intermediates!.file,
      certificate,
      role: "intermediate",
      warnWithin: caWarnWithin,
      renew: "have the intermediate CA re-issued before then",
    })),
    {
      id: "leaf",
      label: "certificate",
      file: leaf.file,
      certificate: leaf.certificate,
      role: "leaf",
      warnWithin: input.leafWarnWithin ?? defaultLeafWarnWithin(leaf.certificate),
      renew: "issue a new certificate before then (certrole pki issue)",
    },
  ];

  const items: CheckedItem[] = certificates.map(({ id, label, file, certificate }) => ({
    id,
    label,
    file,
    name: certificate.subject.text,
    notBefore: isoSeconds(certificate.notBefore),
    notAfter: isoSeconds(certificate.notAfter),
  }));
  const requirements = certificates.flatMap((checked) =>
    commonRequirements(checked.id, checked.role, checked.certificate, now)
  );
  const chain = await chainRequirement(leaf.certificate, intermediates, ca.certificate, now);
  requirements.push(chain);
  const warnings = certificates.flatMap((checked) => expiryWarning(checked, now) ?? []);
  const outlives = chain.ok ? outlivesCaWarning(leaf.certificate, ca.certificate, now) : undefined;
  if (outlives) warnings.push(outlives);
  if (input.key) {
    items.push({ id: "key", label: "private key", file: input.key.file });
    requirements.push(await keyRequirement(input.key.key, leaf.certificate));
  }

  return {
    ok: requirements.every((result) => result.ok),
    checkedAt: isoSeconds(now),
    items,
    requirements,
    warnings,
  };
}

/** A certificate valid now that expires within its warning window. */
function expiryWarning(checked: CertificateUnderCheck, now: Date): Warning | undefined {
  const { certificate } = checked;
  const left = certificate.notAfter.getTime() - now.getTime();
  if (validityAt(certificate, now) !== "valid" || left > checked.warnWithin) return undefined;
  return {
    item: checked.id,
    id: "expires-soon",
    text: `expires in ${formatDuration(left)}, at ${isoSeconds(certificate.notAfter)}`,
    fix: checked.renew,
  };
}

/** The leaf chains to the CA through the intermediates, signatures verified, within every pathLenConstraint. */
async function chainRequirement(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  ca: Certificate,
  now: Date,
): Promise<RequirementResult> {
  const found = await verifyChain(leaf, intermediates, [ca], now, { checkValidity: false });
  const tooLong = found.ok ? pathLengthViolation([...found.path, found.anchor]) : undefined;
  const chain = tooLong ? { ok: false as const, reason: tooLong } : found;
  const through = chain.ok && chain.path.length > 1
    ? ` through ${chain.path.slice(1).map((certificate) => `"${certificate.subject.text}"`).join(", ")}`
    : "";
  // WebCrypto cannot check MD5 (or unknown) signatures: say that, rather than "no issuer".
  const unverifiable = found.ok
    ? undefined
    : [leaf, ...intermediates].find((certificate) => !verifiableScheme(certificate));
  return {
    item: "leaf",
    id: "chain",
    ok: chain.ok,
    text: chain.ok
      ? `chains to the CA "${ca.subject.text}"${through}, signatures verified`
      : unverifiable
      ? `cannot verify the chain to the CA "${ca.subject.text}": "${unverifiable.subject.text}" is signed with ${
        oidName(unverifiable.signatureAlgorithm.oid)
      }`
      : `does not chain to the CA "${ca.subject.text}": ${chain.reason}`,
    fix: chain.ok
      ? undefined
      : unverifiable
      ? "re-issue it signed with SHA-256 (openssl ... -sha256, or certrole pki issue)"
      : tooLong
      ? "issue it from a CA whose pathLenConstraint allows the intermediates in between, or from a CA nearer the anchor"
      : leaf.issuer.text !== ca.subject.text && intermediates.length === 0
      ? `it was issued by "${leaf.issuer.text}": check it against that CA, pass the CAs in between with --intermediates, or issue it from this CA (certrole pki issue)`
      : "this CA's key did not sign it: check it against the CA that did, or issue it from this CA (certrole pki issue)",
  };
}

/** A leaf valid now whose validity runs past its CA's, which stops it working early. */
function outlivesCaWarning(leaf: Certificate, ca: Certificate, now: Date): Warning | undefined {
  if (validityAt(leaf, now) !== "valid" || leaf.notAfter.getTime() <= ca.notAfter.getTime()) return undefined;
  return {
    item: "leaf",
    id: "outlives-ca",
    text: `is valid until ${isoSeconds(leaf.notAfter)}, after its CA expires (${
      isoSeconds(ca.notAfter)
    }), and stops working then`,
    fix: "plan the CA's renewal, or issue certificates that end before it",
  };
}

async function keyRequirement(key: PrivateKey, leaf: Certificate): Promise<RequirementResult> {
  const matches = await keyMatchesCertificate(key, leaf);
  return {
    item: "key",
    id: "key-matches",
    ok: matches,
    text: matches
      ? `${key.description} key, matches the certificate`
      : `${key.description} key, does not match the certificate's public key`,
    fix: matches ? undefined : "use the key the certificate was issued for (or issue a certificate for this key)",
  };
}

/** The human report: a ✓/✗ line per requirement under each file, then warnings, then a verdict. */
export function formatReport(report: RequirementsReport): string {
  const lines: string[] = [];
  for (const item of report.items) {
    lines.push(`${item.label} ${item.file}${item.name !== undefined ? ` (${item.name || "empty subject"})` : ""}`);
    for (const result of report.requirements.filter((candidate) => candidate.item === item.id)) {
      lines.push(result.ok ? `  ✓ ${result.text}` : `  ✗ ${result.text}: ${result.fix}`);
    }
  }
  if (report.warnings.length) {
    lines.push("", "Warnings:");
    for (const warning of report.warnings) {
      const item = report.items.find((candidate) => candidate.id === warning.item);
      lines.push(`  ! ${item ? `${item.label} ${item.file} ` : ""}${warning.text}: ${warning.fix}`);
    }
  }
  const failed = report.requirements.filter((result) => !result.ok).length;
  const total = report.requirements.length;
  lines.push(
    "",
    failed === 0
      ? `All ${total} requirements of IAM Roles Anywhere hold.`
      : `${failed} of ${total} requirements of IAM Roles Anywhere fail (✗ above): fix them before using these with Roles Anywhere.`,
  );
  return lines.join("\n") + "\n";
}
