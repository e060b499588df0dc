/** `certrole pki init-ca`: a private CA (key + self-signed certificate) that Roles Anywhere accepts as a trust anchor. */
import type { Command } from "../command.ts";
import { writeStderr, writeStdout } from "../command.ts";
import { fail } from "../errors.ts";
import { parseCertificate } from "../identity/certificate.ts";
import { toPem } from "../identity/pem.ts";
import {
  COMMON_FLAGS,
  KEY_TYPE_FLAG,
  keyTypeFrom,
  subjectFlags,
  subjectFrom,
  validityMs,
} from "../pki/issuance_flags.ts";
import { describeKeyType } from "../pki/key_type.ts";
import { CERTIFICATE_MODE, checkOutputs, KEY_MODE, type OutputFile, writeOutput } from "../pki/output_files.ts";
import { caPassphraseNames, passphraseForNewKey } from "../pki/passphrase_prompt.ts";
import { readEnv } from "../process/environment.ts";
import { isoSeconds } from "../iso_time.ts";

const DEMO_WARNING =
  "certrole: warning: a CA made by hand is for demos and tests. In production use your existing PKI or " +
  "AWS Private CA, issuing short-lived certificates that rotate automatically.\n";

export const command: Command = {
  name: "pki init-ca",
  summary: "create a private CA key and certificate that Roles Anywhere accepts as a trust anchor",
  usage: "certrole pki init-ca --cn NAME [flags]",
  description: `
Creates the walkthrough's CA in one step, without openssl: a private key and a self-signed
X.509 v3 CA certificate with what IAM Roles Anywhere requires of a trust anchor
(basicConstraints CA:TRUE and keyUsage keyCertSign + cRLSign, both critical, subject and
authority key identifiers, a SHA-256 signature, SHA-384 for P-384 keys, ML-DSA for ML-DSA keys).
An ML-DSA CA can issue ML-DSA, RSA or EC certificates, and an RSA or EC CA ML-DSA ones.

The key is written as encrypted PKCS#8 (PBKDF2-HMAC-SHA256, AES-256-CBC), mode 0600. Its
passphrase comes from --passphrase-file, CERTROLE_CA_PASSPHRASE_FILE or CERTROLE_CA_PASSPHRASE,
else it is asked for twice on the terminal. --no-passphrase writes the key unencrypted, for
throwaway demos. Existing files are never replaced unless --force is given.

Then issue certificates with \`certrole pki issue\` and register the CA certificate as a trust
anchor (aws rolesanywhere create-trust-anchor).`,
  flags: {
    ...subjectFlags("CA's common name (CN), e.g. myPrivateCA; required"),
    ...KEY_TYPE_FLAG,
    "days": { type: "string", value: "N", default: "1095", description: "validity in days" },
    "cert-out": {
      type: "string",
      value: "FILE",
      default: "ca-cert.pem",
      description: "where to write the certificate",
    },
    "key-out": { type: "string", value: "FILE", default: "ca-key.pem", description: "where to write the private key" },
    "passphrase-file": {
      type: "string",
      value: "FILE",
      description:
        "file holding the new key's passphrase (else CERTROLE_CA_PASSPHRASE_FILE, CERTROLE_CA_PASSPHRASE, a prompt)",
    },
    "no-passphrase": { type: "boolean", description: "write the key unencrypted (throwaway demos only)" },
    ...COMMON_FLAGS,
  },
  examples: [
    "certrole pki init-ca --cn myPrivateCA                 # asks for the key's passphrase",
    "CERTROLE_CA_PASSPHRASE_FILE=/run/secrets/ca-pass certrole pki init-ca --cn myPrivateCA --org Example --country US",
    "certrole pki init-ca --cn myPrivateCA --key-type ec-p384 --days 365 --cert-out ca/ca-cert.pem --key-out ca/ca-key.pem",
    "certrole pki init-ca --cn myPrivateCA --key-type ml-dsa-65   # a post-quantum trust anchor",
    "certrole pki init-ca --cn demoCA --no-passphrase --force   # throwaway demo CA",
    "",
    "# then register it as the trust anchor:",
    "aws rolesanywhere create-trust-anchor --enabled --name myPrivateCA \\",
    '    --source sourceData={x509CertificateData="$(cat ca-cert.pem)"},sourceType=CERTIFICATE_BUNDLE',
  ],
  async run(flags) {
    const env = readEnv;
    const subject = subjectFrom(flags);
    if (subject.cn === undefined) fail("MissingSettings", "give the CA a name with --cn, e.g. --cn myPrivateCA");
    const keyType = keyTypeFrom(flags);
    const lifetimeMs = validityMs(flags, "days", new Date(), 1095)!;
    const encrypt = flags.values["no-passphrase"] !== true;
    const passphraseFile = flags.values["passphrase-file"] as string | undefined;
    if (!encrypt && passphraseFile !== undefined) {
      fail("ConflictingSettings", "--no-passphrase and --passphrase-file contradict each other: keep one");
    }
    const force = flags.values.force === true;
    const certOut: OutputFile = {
      path: (flags.values["cert-out"] as string | undefined) ?? "ca-cert.pem",
      what: "CA certificate",
      flag: "--cert-out",
      mode: CERTIFICATE_MODE,
    };
    const keyOut: OutputFile = {
      path: (flags.values["key-out"] as string | undefined) ?? "ca-key.pem",
      what: "CA private key",
      flag: "--key-out",
      mode: KEY_MODE,
    };

    const pki = await import("../pki/certificate_authority.ts");
    const subjectDer = pki.encodeName(subject);
    await checkOutputs([keyOut, certOut], force);
    const passphrase = encrypt
      ? await passphraseForNewKey(`CA key ${keyOut.path}`, passphraseFile, caPassphraseNames("--passphrase-file"), env)
      : undefined;

    const keys = await pki.generateKeyPair(keyType);
    const now = new Date();
    const der = await pki.createCaCertificate({
      keys,
      subject: subjectDer,
      notBefore: now,
      notAfter: new Date(now.getTime() + lifetimeMs),
    });
    const certificate = parseCertificate(der);
    await writeOutput(keyOut, await pki.privateKeyPem(keys.privateKey, passphrase?.value), force);
    await writeOutput(certOut, toPem("CERTIFICATE", der), force);

    writeStderr(DEMO_WARNING);
    const summary = {
      certificate: certOut.path,
      key: keyOut.path,
      keyType,
      keyEncrypted: encrypt,
      subject: certificate.subject.text,
      serialNumber: certificate.serialDecimal,
      notBefore: isoSeconds(certificate.notBefore),
      notAfter: isoSeconds(certificate.notAfter),
    };
    if (flags.values.json) {
      writeStdout(JSON.stringify(summary, null, 2) + "\n");
      return 0;
    }
    writeStdout(
      [
        `Wrote ${keyOut.path}: ${describeKeyType(keyType)} private key, ${
          encrypt ? `encrypted (passphrase from ${passphrase!.source})` : "NOT encrypted"
        }, mode 0600`,
        `Wrote ${certOut.path}: CA certificate "${summary.subject}", valid ${summary.notBefore} to ${summary.notAfter}`,
        "",
        "Next:",
        `  certrole pki issue --cn myContainer --ca-cert ${certOut.path} --ca-key ${keyOut.path}`,
        `  aws rolesanywhere create-trust-anchor --enabled --name myPrivateCA \\`,
        `      --source sourceData={x509CertificateData="$(cat ${certOut.path})"},sourceType=CERTIFICATE_BUNDLE`,
        "",
      ].join("\n"),
    );
    return 0;
  },
};
