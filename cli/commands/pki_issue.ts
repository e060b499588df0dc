/** `certrole pki issue`: a key and end-entity certificate for Roles Anywhere, signed by the CA from `pki init-ca`. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { fail } from "../errors.ts";
import { type Certificate, parseCertificate, parseSubjectPublicKeyInfo, validityAt } from "../identity/certificate.ts";
import {
  certificateFromBytes,
  type FileRole,
  type KeyFileRole,
  keyMatchesCertificate,
  readInputFile,
} from "../identity/identity.ts";
import { KEY_PASSPHRASE_NAMES } from "../identity/passphrase.ts";
import { acceptedKeyTypes, keyTypeFinding } from "../identity/roles_anywhere_rules.ts";
import { toPem } from "../identity/pem.ts";
import {
  altNamesFrom,
  BACKDATE_MS,
  COMMON_FLAGS,
  isoSeconds,
  KEY_TYPE_FLAG,
  keyTypeFrom,
  subjectFlags,
  subjectFrom,
  validityMs,
} from "../pki/issuance_flags.ts";
import { describeKeyType } from "../pki/key_type.ts";
import { CERTIFICATE_MODE, checkOutputs, KEY_MODE, type OutputFile, writeOutput } from "../pki/output_files.ts";
import { caPassphraseNames, openKeyFile, passphraseForNewKey } from "../pki/passphrase_prompt.ts";
import { readEnv } from "../process/environment.ts";

const CA_CERT_FILE: FileRole = { what: "CA certificate", setting: "--ca-cert" };
const CSR_FILE: FileRole = { what: "CSR", setting: "--csr" };
const CA_KEY_FILE: KeyFileRole = {
  what: "CA private key",
  setting: "--ca-key",
  passphrase: caPassphraseNames("--ca-passphrase-file"),
};

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

/** The CA's key, checked against the CA certificate; a WebCrypto key, which is what signs certificates. */
async function loadCaKey(path: string, passphraseFile: string | undefined, ca: Certificate): Promise<CryptoKey> {
  const key = await openKeyFile(path, CA_KEY_FILE, passphraseFile, readEnv);
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

export const command: Command = {
  name: "pki issue",
  summary: "issue a key and certificate for Roles Anywhere, signed by your CA",
  usage: "certrole pki issue --cn NAME [flags]",
  description: `
Replaces the walkthrough's \`openssl req -newkey\` + v3.ext + \`openssl x509 -req\` steps: makes a
private key and a certificate signed by the CA with what IAM Roles Anywhere requires of an
end-entity certificate: X.509 v3, basicConstraints CA:FALSE and keyUsage digitalSignature (both
critical), a SHA-256 (or, from an ML-DSA CA, ML-DSA) signature, a fresh random serial. Optional: extendedKeyUsage clientAuth,
subject alternative names (which trust policies can test as x509SAN/DNS and x509SAN/URI).

The new key is encrypted PKCS#8 (PBKDF2-HMAC-SHA256, AES-256-CBC), mode 0600. Its passphrase
comes from --passphrase-file, ROLESANYWHERE_KEY_PASSPHRASE_FILE or ROLESANYWHERE_KEY_PASSPHRASE
(what \`certrole credential-process\` reads, so the pair just works), else it is asked for twice
on the terminal. --no-passphrase writes it unencrypted.

The CA key's passphrase is a separate setting: --ca-passphrase-file, CERTROLE_CA_PASSPHRASE_FILE
or CERTROLE_CA_PASSPHRASE, else a prompt. With --csr, the CSR's key and subject are certified
instead (subject flags, if given, replace the subject; the CSR's extensions are not copied).`,
  flags: {
    ...subjectFlags("subject common name (CN), what trust policies test as x509Subject/CN; required without --csr"),
    "dns": { type: "list", value: "NAME", description: "subject alternative name, DNS" },
    "uri": { type: "list", value: "URI", description: "subject alternative name, URI (e.g. spiffe://...)" },
    "email": { type: "list", value: "ADDRESS", description: "subject alternative name, email" },
    "client-auth": { type: "boolean", description: "add extendedKeyUsage clientAuth" },
    "days": { type: "string", value: "N", default: "1", description: "validity in days" },
    "hours": { type: "string", value: "N", description: "validity in hours, instead of --days" },
    ...KEY_TYPE_FLAG,
    "csr": { type: "string", value: "FILE", description: "certify this PKCS#10 request instead of making a key" },
    "ca-cert": { type: "string", value: "FILE", default: "ca-cert.pem", description: "the CA's certificate" },
    "ca-key": { type: "string", value: "FILE", default: "ca-key.pem", description: "the CA's private key" },
    "ca-passphrase-file": {
      type: "string",
      value: "FILE",
      description:
        "file holding the CA key's passphrase (else CERTROLE_CA_PASSPHRASE_FILE, CERTROLE_CA_PASSPHRASE, a prompt)",
    },
    "cert-out": { type: "string", value: "FILE", default: "cert.pem", description: "where to write the certificate" },
    "key-out": { type: "string", value: "FILE", default: "key.pem", description: "where to write the new private key" },
    "passphrase-file": {
      type: "string",
      value: "FILE",
      description:
        "file holding the new key's passphrase (else ROLESANYWHERE_KEY_PASSPHRASE_FILE, ROLESANYWHERE_KEY_PASSPHRASE, a prompt)",
    },
    "no-passphrase": { type: "boolean", description: "write the new key unencrypted" },
    ...COMMON_FLAGS,
  },
  examples: [
    "certrole pki issue --cn myContainer                   # uses ca-cert.pem + ca-key.pem, writes cert.pem + key.pem",
    "ROLESANYWHERE_KEY_PASSPHRASE_FILE=/run/secrets/key-pass CERTROLE_CA_PASSPHRASE_FILE=/run/secrets/ca-pass \\",
    "    certrole pki issue --cn myContainer --hours 8 --key-type ec-p256 --client-auth",
    "certrole pki issue --cn myContainer --key-type ml-dsa-65   # post-quantum (FIPS 204), under any CA",
    "certrole pki issue --cn myContainer --dns myContainer.example.com --uri spiffe://example.com/myContainer",
    "certrole pki issue --csr csr.pem --cert-out cert.pem  # the key stays where the CSR was made",
    "",
    "# then check it and use it:",
    "certrole pki check --ca ca-cert.pem --cert cert.pem --key key.pem",
    "certrole credential-process --certificate cert.pem --private-key key.pem --trust-anchor-arn ... --profile-arn ... --role-arn ...",
  ],
  async run(flags) {
    const env = readEnv;
    const value = (name: string) => flags.values[name] as string | undefined;
    const csrPath = value("csr");
    const subjectFields = subjectFrom(flags);
    const hasSubjectFlags = Object.values(subjectFields).some((field) => field !== undefined);
    if (!csrPath && subjectFields.cn === undefined) {
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
    const now = new Date();
    const lifetimeMs = value("hours") !== undefined
      ? validityMs(flags, "hours", now)!
      : validityMs(flags, "days", now, 1)!;
    const altNames = altNamesFrom(flags);
    const keyType = csrPath ? undefined : keyTypeFrom(flags);
    const encrypt = !csrPath && flags.values["no-passphrase"] !== true;
    const passphraseFile = value("passphrase-file");
    if (flags.values["no-passphrase"] === true && passphraseFile !== undefined) {
      fail("ConflictingSettings", "--no-passphrase and --passphrase-file contradict each other: keep one");
    }
    const force = flags.values.force === true;
    const certOut: OutputFile = {
      path: value("cert-out") ?? "cert.pem",
      what: "certificate",
      flag: "--cert-out",
      mode: CERTIFICATE_MODE,
    };
    const keyOut: OutputFile | undefined = csrPath ? undefined : {
      path: value("key-out") ?? "key.pem",
      what: "private key",
      flag: "--key-out",
      mode: KEY_MODE,
    };

    const pki = await import("../pki/certificate_authority.ts");
    const subjectDer = hasSubjectFlags ? pki.encodeName(subjectFields) : undefined;
    await checkOutputs(keyOut ? [keyOut, certOut] : [certOut], force);

    const caPath = value("ca-cert") ?? "ca-cert.pem";
    const ca = await loadCa(caPath, now);
    const notBefore = new Date(now.getTime() - BACKDATE_MS);
    const notAfter = new Date(now.getTime() + lifetimeMs);
    if (notAfter.getTime() > ca.notAfter.getTime()) {
      fail(
        "OutlivesCa",
        `the certificate would be valid until ${isoSeconds(notAfter)}, after the CA expires (${
          isoSeconds(ca.notAfter)
        }): ask for a shorter --days/--hours or renew the CA`,
      );
    }
    const caKeyPath = value("ca-key") ?? "ca-key.pem";
    const caKey = await loadCaKey(caKeyPath, value("ca-passphrase-file"), ca);

    let publicKey: Uint8Array<ArrayBuffer>;
    let subject: Uint8Array<ArrayBuffer>;
    let keyPem: string | undefined;
    let keyPassphraseSource: string | undefined;
    if (csrPath) {
      const request = await pki.readCertificateRequest(await readInputFile(csrPath, CSR_FILE), csrPath);
      const key = keyTypeFinding(parseSubjectPublicKeyInfo(request.publicKey));
      if (!key.ok) {
        fail(
          "UnsupportedKey",
          `CSR "${csrPath}" is for a key Roles Anywhere does not accept (${key.found}): make it for ${acceptedKeyTypes()}`,
        );
      }
      publicKey = request.publicKey;
      subject = subjectDer ?? request.subject;
      if (subject.length === 2 && !altNames.dns.length && !altNames.uri.length && !altNames.email.length) {
        fail("MissingSettings", `CSR "${csrPath}" has an empty subject: give --cn`);
      }
    } else {
      const passphrase = encrypt
        ? await passphraseForNewKey(`key ${keyOut!.path}`, passphraseFile, KEY_PASSPHRASE_NAMES, env)
        : undefined;
      keyPassphraseSource = passphrase?.source;
      const keys = await pki.generateKeyPair(keyType!);
      publicKey = await pki.spkiOf(keys.publicKey);
      subject = subjectDer!;
      keyPem = await pki.privateKeyPem(keys.privateKey, passphrase?.value);
    }

    const der = await pki.createLeafCertificate({
      issuer: { certificate: ca, signingKey: caKey },
      publicKey,
      subject,
      altNames,
      clientAuth: flags.values["client-auth"] === true,
      notBefore,
      notAfter,
    });
    const certificate = parseCertificate(der);
    if (keyOut) await writeOutput(keyOut, keyPem!, force);
    await writeOutput(certOut, toPem("CERTIFICATE", der), force);

    const summary = {
      certificate: certOut.path,
      key: keyOut?.path ?? null,
      keyType: keyType ?? null,
      keyEncrypted: keyOut ? encrypt : null,
      subject: certificate.subject.text,
      issuer: certificate.issuer.text,
      serialNumber: certificate.serialDecimal,
      notBefore: isoSeconds(certificate.notBefore),
      notAfter: isoSeconds(certificate.notAfter),
    };
    if (flags.values.json) {
      writeStdout(JSON.stringify(summary, null, 2) + "\n");
      return 0;
    }
    const lines: string[] = [];
    if (keyOut) {
      lines.push(
        `Wrote ${keyOut.path}: ${describeKeyType(keyType!)} private key, ${
          encrypt ? `encrypted (passphrase from ${keyPassphraseSource})` : "NOT encrypted"
        }, mode 0600`,
      );
    }
    lines.push(
      `Wrote ${certOut.path}: certificate "${summary.subject}" issued by "${summary.issuer}", serial ${summary.serialNumber}`,
      `  valid ${summary.notBefore} to ${summary.notAfter}`,
      "",
      "Next:",
      `  certrole pki check --ca ${caPath} --cert ${certOut.path}${keyOut ? ` --key ${keyOut.path}` : ""}`,
      `  certrole credential-process --certificate ${certOut.path}${
        keyOut ? ` --private-key ${keyOut.path}` : " --private-key KEY"
      } --trust-anchor-arn ... --profile-arn ... --role-arn ...`,
      "",
    );
    writeStdout(lines.join("\n"));
    return 0;
  },
};
