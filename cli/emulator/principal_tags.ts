/**
 * The session tags IAM Roles Anywhere derives from a certificate with its default attribute
 * mapping: every subject and issuer RDN (x509Subject/CN, x509Issuer/O, ...) and the first DNS
 * name, URI and directory name of the SAN (x509SAN/DNS, x509SAN/URI, x509SAN/Name/CN). These are
 * the aws:PrincipalTag/... keys trust policies test. Pure.
 */
import type { Certificate, DistinguishedName } from "../identity/certificate.ts";

function rdnTags(prefix: string, name: DistinguishedName, tags: Record<string, string>): void {
  for (const attribute of name.attributes) {
    if (/^\d/.test(attribute.type)) continue; // attributes without a short name are not mapped
    tags[`${prefix}/${attribute.type}`] ??= attribute.value; // first value wins
  }
}

export function principalTags(certificate: Certificate): Record<string, string> {
  const tags: Record<string, string> = {};
  rdnTags("x509Subject", certificate.subject, tags);
  rdnTags("x509Issuer", certificate.issuer, tags);
  const san = certificate.subjectAltNames;
  if (san.dns[0]) tags["x509SAN/DNS"] = san.dns[0];
  if (san.uri[0]) tags["x509SAN/URI"] = san.uri[0];
  if (san.directoryNames[0]) rdnTags("x509SAN/Name", san.directoryNames[0], tags);
  return tags;
}

/**
 * Condition keys for the trust policy: aws:PrincipalTag/... (the certificate's principalTags,
 * which the caller keeps for the session too), aws:SourceArn, sts:SourceIdentity.
 */
export function trustPolicyKeys(
  certificate: Certificate,
  tags: Readonly<Record<string, string>>,
  trustAnchorArn: string,
): Record<string, string> {
  const keys: Record<string, string> = { "aws:SourceArn": trustAnchorArn };
  for (const [tag, value] of Object.entries(tags)) keys[`aws:PrincipalTag/${tag}`] = value;
  const cn = certificate.subject.attributes.find((attribute) => attribute.type === "CN");
  if (cn) keys["sts:SourceIdentity"] = `CN=${cn.value}`;
  return keys;
}
