/** `certrole pki issue`: a key and end-entity certificate for Roles Anywhere, signed by the CA from `pki init-ca`. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { COMMON_FLAGS, KEY_TYPE_FLAG, subjectFlags } from "../pki/issuance_flags.ts";
import { isoSeconds } from "../iso_time.ts";
import { describeKeyType } from "../pki/key_type.ts";
import { issueLeaf, leafIssuanceFrom } from "../pki/leaf_issuance.ts";
import { readEnv } from "../process/environment.ts";

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
    const issuance = leafIssuanceFrom(flags);
    const { certificate, keyPassphraseSource } = await issueLeaf(issuance, readEnv);
    const { certOut, keyOut, keyType, encrypt } = issuance;
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
      `  certrole pki check --ca ${issuance.caPath} --cert ${certOut.path}${keyOut ? ` --key ${keyOut.path}` : ""}`,
      `  certrole credential-process --certificate ${certOut.path}${
        keyOut ? ` --private-key ${keyOut.path}` : " --private-key KEY"
      } --trust-anchor-arn ... --profile-arn ... --role-arn ...`,
      "",
    );
    writeStdout(lines.join("\n"));
    return 0;
  },
};
