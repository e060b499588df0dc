/**
 * `pki issue`'s work: its settings checked from the flags, then a key (or a CSR's key) certified
 * by the CA from `pki init-ca`: the CA and its key checked first, the certificate kept within the
 * CA's validity, the outputs written key first. @peculiar/x509 loads only when a certificate is
 * made (certificate_authority.ts, imported on demand), so `pki issue --help` stays fast.
 */
import { fail } from "../errors.ts";
import type { ParsedFlags } from "../flags.ts";
import { type Certificate, parseCertificate, parseSubjectPublicKeyInfo, validityAt } from "../identity/certificate.ts";
import {
  certificateFromBytes,
  type FileRole,
  type KeyFileRole,
  keyMatchesCertificate,
  readInputFile,
} from "../identity/identity.ts";
import { KEY_PASSPHRASE_NAMES } from "../identity/passphrase.ts";
import { toPem } from "../identity/pem.ts";
import { acceptedKeyTypes, keyTypeFinding } from "../identity/roles_anywhere_rules.ts";
// Type-only: erased at run time, so this module does not load @peculiar/x509.
import type { SubjectFields } from "./certificate_authority.ts";
import { altNamesFrom, BACKDATE_MS, keyTypeFrom, subjectFrom, validityMs } from "./issuance_flags.ts";
import { isoSeconds } from "../iso_time.ts";
import type { KeyType } from "./key_type.ts";
import { CERTIFICATE_MODE, checkOutputs, KEY_MODE, type OutputFile, writeOutput } from "./output_files.ts";
import { caPassphraseNames, openKeyFile, passphraseForNewKey } from "./passphrase_prompt.ts";

type CertificateAuthority = typeof import("./certificate_authority.ts");
type AltNames = ReturnType<typeof altNamesFrom>;

const CA_CERT_FILE: FileRole = { what: "CA certificate", setting: "--ca-cert" };
const CSR_FILE: FileRole = { what: "CSR", setting: "--csr" };
const CA_KEY_FILE: KeyFileRole = {
  what: "CA private key",
  setting: "--ca-key",
  passphrase: caPassphraseNames("--ca-passphrase-file"),
};

/** What `pki issue` was asked for, checked. */
export interface LeafIssuance {
  /** Certify this CSR's key instead of making one. */
  readonly csrPath?: string;
  readonly subject: SubjectFields;
  /** A subject flag was given: it makes (or, with a CSR, replaces) the subject. */
  readonly hasSubject: boolean;
  readonly altNames: AltNames;
  readonly clientAuth: boolean;
  readonly lifetimeMs: number;
  /** The new key's type; undefined with a CSR. */
  readonly keyType?: KeyType;
  /** The new key is written encrypted; false with a CSR. */
  readonly encrypt: boolean;
  readonly passphraseFile?: string;
  readonly caPath: string;
  readonly caKeyPath: string;
  readonly caPassphraseFile?: string;
  readonly certOut: OutputFile;
  /** undefined with a CSR: the key stays with whoever made it. */
  readonly keyOut?: OutputFile;
  readonly force: boolean;
}

/** `pki issue`'s flags as a LeafIssuance; contradictions and missing settings are usage errors. */
export function leafIssuanceFrom(flags: ParsedFlags): LeafIssuance {
  const value = (name: string) => flags.values[name] as string | undefined;
  const csrPath = value("csr");
  const subject = subjectFrom(flags);
  if (!csrPath && subject.cn === undefined) {
    fail(
      "MissingSettings",
      "give the certificate's common name with --cn, e.g. --cn myContainer (or sign a --csr)",
    );
  }
  if (csrPath) {
    for (const name of ["key-out", "key-type", "passphrase-file", "no-passphrase"]) {
      if (flags.values[name] !== undefined) {
        fail("InvalidSetting", `--${name} does not apply with --csr: the key stays with whoever made the CSR`);
      }
    }
  }
  if (value("days") !== undefined && value("hours") !== undefined) {
    fail("ConflictingSettings", "--days and --hours are both given: keep one");
  }
  // Checked against this moment; issueLeaf's own clock reading is milliseconds later.
  const checkedAt = new Date();
  const lifetimeMs = value("hours") !== undefined
    ? validityMs(flags, "hours", checkedAt)!
    : validityMs(flags, "days", checkedAt, 1)!;
  const altNames = altNamesFrom(flags);
  const keyType = csrPath ? undefined : keyTypeFrom(flags);
  const passphraseFile = value("passphrase-file");
  if (flags.values["no-passphrase"] === true && passphraseFile !== undefined) {
    fail("ConflictingSettings", "--no-passphrase and --passphrase-file contradict each other: keep one");
  }
  return {
    csrPath,
    subject,
    hasSubject: Object.values(subject).some((field) => field !== undefined),
    altNames,
    clientAuth: flags.values["client-auth"] === true,
    lifetimeMs,
    keyType,
    encrypt: !csrPath && flags.values["no-passphrase"] !== true,
    passphraseFile,
    caPath: value("ca-cert") ?? "ca-cert.pem",
    caKeyPath: value("ca-key") ?? "ca-key.pem",
    caPassphraseFile: value("ca-passphrase-file"),
    certOut: { path: value("cert-out") ?? "cert.pem", what: "certificate", flag: "--cert-out", mode: CERTIFICATE_MODE },
    keyOut: csrPath
      ? undefined
      : { path: value("key-out") ?? "key.pem", what: "private key", flag: "--key-out", mode: KEY_MODE },
    force: flags.values.force === true,
  };
}

/** What issueLeaf wrote. */
export interface IssuedLeaf {
  readonly certificate: Certificate;
  /** Where the new key's passphrase came from; undefined with a CSR or --no-passphrase. */
  readonly keyPassphraseSource?: string;
}

/** The key the certificate certifies, its subject, and the new key's PEM when certrole made the key. */
interface SubjectKey {
  readonly publicKey: Uint8Array<ArrayBuffer>;
  readonly subject: Uint8Array<ArrayBuffer>;
  readonly keyPem?: string;
  readonly passphraseSource?: string;
}

/** Issues the certificate (and key) `issuance` asks for and writes them; every check comes before the first write. */
export async function issueLeaf(
  issuance: LeafIssuance,
  env: (name: string) => string | undefined,
): Promise<IssuedLeaf> {
  const pki = await import("./certificate_authority.ts");
  const subjectDer = issuance.hasSubject ? pki.encodeName(issuance.subject) : undefined;
  const { certOut, keyOut, force } = issuance;
  await checkOutputs(keyOut ? [keyOut, certOut] : [certOut], force);

  const now = new Date();
  const ca = await loadCa(issuance.caPath, now);
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date(now.getTime() + issuance.lifetimeMs);
  requireWithinCa(notAfter, ca);
  const caKey = await loadCaKey(issuance.caKeyPath, issuance.caPassphraseFile, ca, env);

  const key = issuance.csrPath
    ? await csrSubjectKey(pki, issuance.csrPath, subjectDer, issuance.altNames)
    : await newSubjectKey(pki, issuance, subjectDer!, env);
  const der = await pki.createLeafCertificate({
    issuer: { certificate: ca, signingKey: caKey },
    publicKey: key.publicKey,
    subject: key.subject,
    altNames: issuance.altNames,
    clientAuth: issuance.clientAuth,
    notBefore,
    notAfter,
  });
  const certificate = parseCertificate(der);
  if (keyOut) await writeOutput(keyOut, key.keyPem!, force);
  await writeOutput(certOut, toPem("CERTIFICATE", der), force);
  return { certificate, keyPassphraseSource: key.passphraseSource };
}

/** The CA certificate, refused early when it could not sign a certificate Roles Anywhere accepts. */
async function loadCa(path: string, now: Date): Promise<Certificate> {
  const ca = certificateFromBytes(await readInputFile(path, CA_CERT_FILE), path, CA_CERT_FILE);
  if (!ca.basicConstraints?.ca) {
    fail(
      "NotACa",
      `CA certificate "${path}" is not a CA (no basicConstraints CA:TRUE): set --ca-cert to your CA's certificate`,
    );
  }
  if (ca.keyUsage && !ca.keyUsage.keyCertSign) {
    fail("NotACa", `CA certificate "${path}" lacks keyUsage keyCertSign: re-create the CA (certrole pki init-ca)`);
  }
  const state = validityAt(ca, now);
  if (state !== "valid") {
    fail(
      "CaNotValid",
      `CA certificate "${path}" is ${state === "expired" ? "expired" : "not yet valid"} (valid ${
        isoSeconds(ca.notBefore)
      } to ${isoSeconds(ca.notAfter)}): use a current CA`,
    );
  }
  return ca;
}

function requireWithinCa(notAfter: Date, ca: Certificate): void {
  if (notAfter.getTime() > ca.notAfter.getTime()) {
    fail(
      "OutlivesCa",
      `the certificate would be valid until ${isoSeconds(notAfter)}, after the CA expires (${
        isoSeconds(ca.notAfter)
      }): ask for a shorter --days/--hours or renew the CA`,
    );
  }
}

/** The CA's key, checked against the CA certificate; a WebCrypto key, which is what signs certificates. */
async function loadCaKey(
  path: string,
  passphraseFile: string | undefined,
  ca: Certificate,
  env: (name: string) => string | undefined,
): Promise<CryptoKey> {
  const key = await openKeyFile(path, CA_KEY_FILE, passphraseFile, env);
  if (!(await keyMatchesCertificate(key, ca))) {
    fail(
      "KeyMismatch",
      `CA private key "${path}" does not belong to the CA certificate: set --ca-key and --ca-cert to a pair`,
    );
  }
  if (!(key.signingKey instanceof CryptoKey)) {
    fail(
      "UnsupportedKey",
      `CA private key "${path}" is an ${key.description} key without its seed (the expanded-only form), which certrole can sign sessions with but not certificates: use the CA key in its seed or seed-and-expanded form`,
    );
  }
  return key.signingKey;
}

/** A CSR's key, refused unless Roles Anywhere accepts its type, and its subject unless subject flags replace it. */
async function csrSubjectKey(
  pki: CertificateAuthority,
  csrPath: string,
  subjectDer: Uint8Array<ArrayBuffer> | undefined,
  altNames: AltNames,
): Promise<SubjectKey> {
  const request = await pki.readCertificateRequest(await readInputFile(csrPath, CSR_FILE), csrPath);
  const key = keyTypeFinding(parseSubjectPublicKeyInfo(request.publicKey));
  if (!key.ok) {
    fail(
      "UnsupportedKey",
      `CSR "${csrPath}" is for a key Roles Anywhere does not accept (${key.found}): make it for ${acceptedKeyTypes()}`,
    );
  }
  const subject = subjectDer ?? request.subject;
  if (subject.length === 2 && !altNames.dns.length && !altNames.uri.length && !altNames.email.length) {
    fail("MissingSettings", `CSR "${csrPath}" has an empty subject: give --cn`);
  }
  return { publicKey: request.publicKey, subject };
}

/** A fresh key pair of the asked type, its private half as PEM, encrypted under the new key's passphrase unless told not to. */
async function newSubjectKey(
  pki: CertificateAuthority,
  issuance: LeafIssuance,
  subject: Uint8Array<ArrayBuffer>,
  env: (name: string) => string | undefined,
): Promise<SubjectKey> {
  const passphrase = issuance.encrypt
    ? await passphraseForNewKey(`key ${issuance.keyOut!.path}`, issuance.passphraseFile, KEY_PASSPHRASE_NAMES, env)
    : undefined;
  const keys = await pki.generateKeyPair(issuance.keyType!);
  return {
    publicKey: await pki.spkiOf(keys.publicKey),
    subject,
    keyPem: await pki.privateKeyPem(keys.privateKey, passphrase?.value),
    passphraseSource: passphrase?.source,
  };
}
