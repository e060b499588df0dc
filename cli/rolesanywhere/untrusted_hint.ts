/**
 * What to say after Roles Anywhere's "Untrusted signing certificate": the service names no
 * cause (aws/rolesanywhere-credential-helper#108), and the client cannot see the trust anchor,
 * so this checks only what it holds (the certificate, the intermediates it sent, this machine's
 * clock) and names the first thing that fails there: the certificate expired or not yet valid,
 * self-signed, an intermediate that does not sign it or is out of its dates. When all of that
 * holds, it names the CA the trust anchor must hold (the top issuer and its key id) without
 * claiming why the anchor refused it. Pure: `now` is passed in.
 */
import { findIssuer, isSelfSigned } from "../identity/chain.ts";
import { type Certificate, validityAt } from "../identity/certificate.ts";
import { shellQuote } from "../shell_quote.ts";
import { isoSeconds } from "../iso_time.ts";

export interface UntrustedContext {
  readonly certificate: Certificate;
  readonly intermediates: readonly Certificate[];
  readonly files: { readonly certificate: string; readonly intermediates?: string };
  readonly now: Date;
}

const CLOCK = "by this machine's clock";

function keyId(bytes: Uint8Array | undefined): string {
  return bytes?.length ? ` (key id ${bytes.toHex().toUpperCase().replace(/(..)(?!$)/g, "$1:")})` : "";
}

/** "expired at …" / "is not valid until …" by the local clock, or undefined when valid at `now`. */
function outOfDates(certificate: Certificate, now: Date): string | undefined {
  switch (validityAt(certificate, now)) {
    case "expired":
      return `expired at ${isoSeconds(certificate.notAfter)} (${CLOCK})`;
    case "not-yet-valid":
      return `is not valid until ${isoSeconds(certificate.notBefore)} (${CLOCK})`;
  }
  return undefined;
}

/** The sentence after "Untrusted signing certificate" (without the pki check pointer). */
export async function untrustedCause(context: UntrustedContext): Promise<string> {
  const { certificate, intermediates, now, files } = context;
  const leafDates = outOfDates(certificate, now);
  if (leafDates) {
    return `the certificate ${leafDates}: ${
      leafDates.startsWith("expired") ? "issue a new one" : "check this machine's clock, or wait"
    }`;
  }
  if (await isSelfSigned(certificate)) {
    return "the certificate is self-signed: Roles Anywhere trusts only certificates signed by the trust anchor's CA";
  }
  const bundle = files.intermediates ? `--intermediates ${shellQuote(files.intermediates)}` : "";
  let top = certificate;
  const used: Certificate[] = [];
  for (let depth = 0; depth < 8; depth++) {
    const next = await findIssuer(top, intermediates, used);
    if (!next) break;
    const dates = outOfDates(next, now);
    if (dates) return `the intermediate "${next.subject.text}" in ${bundle} ${dates}: renew it`;
    used.push(next);
    top = next;
    if (await isSelfSigned(top)) {
      return `the chain sent ends at the self-signed CA "${top.subject.text}"${keyId(top.subjectKeyId)}, ` +
        `valid ${CLOCK}: the trust anchor must hold that CA certificate`;
    }
  }
  if (intermediates.length > 0 && used.length === 0) {
    return `none of the ${intermediates.length} certificate(s) in ${bundle} signed the certificate; its issuer is ` +
      `"${certificate.issuer.text}"${keyId(certificate.authorityKeyId)}: add that intermediate to ${bundle}, or the ` +
      "trust anchor must hold that CA";
  }
  const what = used.length ? `the certificate and the ${used.length} intermediate(s) sent are` : "the certificate is";
  return `${what} valid ${CLOCK}; the trust anchor must hold ${
    used.length ? "the top one's" : "its"
  } issuer "${top.issuer.text}"${keyId(top.authorityKeyId)}, valid and meeting Roles Anywhere's CA requirements`;
}
