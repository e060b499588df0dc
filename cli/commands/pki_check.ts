/** `certrole pki check`: does a CA, certificate (and key) meet IAM Roles Anywhere's requirements? */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { formatDuration, parseDuration } from "../duration.ts";
import { fail } from "../errors.ts";
import {
  CERTIFICATE_FILE,
  certificateFromBytes,
  certificatesFromBundle,
  type FileRole,
  INTERMEDIATES_FILE,
  readInputFile,
  SIGNING_KEY_FILE,
} from "../identity/identity.ts";
import { openKeyFile } from "../pki/passphrase_prompt.ts";
import { checkRequirements, DEFAULT_CA_WARN_WITHIN, defaultLeafWarnWithin, formatReport } from "../pki/requirements.ts";
import { readEnv } from "../process/environment.ts";

const CA_FILE: FileRole = { what: "CA certificate", setting: "--ca" };
const CERT_FILE: FileRole = { ...CERTIFICATE_FILE, setting: "--cert or ROLESANYWHERE_CERT_LOCATION" };

export const command: Command = {
  name: "pki check",
  summary: "check a CA, certificate and key against IAM Roles Anywhere's requirements",
  usage: "certrole pki check --ca FILE --cert FILE [--intermediates FILE] [--key FILE] [flags]",
  description: `
Automates the walkthrough's "verify the CA and certificate" step. Prints a ✓ or ✗ line per
requirement, each ✗ saying what to change:
  both          X.509 v3; signed with SHA-256 or stronger (SHA-1, MD5 rejected);
                RSA 2048+ or EC P-256/P-384 key; valid now
  CA            basicConstraints CA:TRUE; keyUsage keyCertSign (intermediates too)
  certificate   basicConstraints CA:FALSE or absent; keyUsage digitalSignature;
                chains to the CA through --intermediates, signatures verified,
                within each CA's pathLenConstraint (the rules the emulator enforces)
  --key         the private key (encrypted or not) matches the certificate
Warnings, which do not fail the check: the certificate expires within --warn-within (default:
the last third of its lifetime, 8h for a 1-day certificate), the CA or an intermediate within
30 days, the certificate outlives its CA.

Exits 0 only when every requirement holds, 1 otherwise. --json prints the same report as JSON.
An encrypted --key's passphrase comes from --passphrase-file, ROLESANYWHERE_KEY_PASSPHRASE_FILE
or ROLESANYWHERE_KEY_PASSPHRASE, else a prompt on the terminal.`,
  flags: {
    "ca": { type: "string", value: "FILE", description: "CA certificate (the trust anchor), PEM or DER" },
    "cert": {
      type: "string",
      value: "FILE",
      env: "ROLESANYWHERE_CERT_LOCATION",
      description: "end-entity certificate, PEM or DER",
    },
    "intermediates": {
      type: "string",
      value: "FILE",
      env: "ROLESANYWHERE_INTERMEDIATES_LOCATION",
      description: "PEM bundle of intermediate CA certificates",
    },
    "key": {
      type: "string",
      value: "FILE",
      env: "ROLESANYWHERE_KEY_LOCATION",
      description: "private key to match against the certificate",
    },
    "passphrase-file": { type: "string", value: "FILE", description: "file holding the key's passphrase" },
    "warn-within": {
      type: "string",
      value: "DURATION",
      description:
        "warn when the certificate expires within this (e.g. 24h, 7d, 90m; default: a third of its lifetime)",
    },
    "json": { type: "boolean", description: "print the report as JSON" },
  },
  examples: [
    "certrole pki check --ca ca-cert.pem --cert cert.pem",
    "ROLESANYWHERE_KEY_PASSPHRASE_FILE=/run/secrets/key-pass certrole pki check --ca ca-cert.pem --cert cert.pem --key key.pem",
    "certrole pki check --ca root.pem --intermediates chain.pem --cert cert.pem --warn-within 7d",
    "certrole pki check --ca ca-cert.pem --cert cert.pem --json | jq '.requirements[] | select(.ok | not)'",
  ],
  async run(flags) {
    const env = readEnv;
    const value = (name: string) => flags.values[name] as string | undefined;
    const missing = [
      value("ca") === undefined ? "--ca (the CA certificate)" : "",
      value("cert") === undefined ? "--cert / ROLESANYWHERE_CERT_LOCATION (the certificate)" : "",
    ].filter(Boolean);
    if (missing.length) fail("MissingSettings", `missing settings: ${missing.join(", ")}`);
    const warnText = value("warn-within");
    const warnWithin = warnText === undefined ? undefined : parseDuration(warnText, "--warn-within");

    const caPath = value("ca")!;
    const certPath = value("cert")!;
    const ca = certificateFromBytes(await readInputFile(caPath, CA_FILE), caPath, CA_FILE);
    const leaf = certificateFromBytes(await readInputFile(certPath, CERT_FILE), certPath, CERT_FILE);
    const leafWarnWithin = warnWithin ?? defaultLeafWarnWithin(leaf);
    const intermediatesPath = value("intermediates");
    const intermediates = intermediatesPath === undefined ? undefined : {
      file: intermediatesPath,
      certificates: certificatesFromBundle(
        await readInputFile(intermediatesPath, INTERMEDIATES_FILE),
        intermediatesPath,
      ),
    };
    const keyPath = value("key");
    const keyRole = { ...SIGNING_KEY_FILE, setting: "--key or ROLESANYWHERE_KEY_LOCATION" };
    const key = keyPath === undefined
      ? undefined
      : { file: keyPath, key: await openKeyFile(keyPath, keyRole, value("passphrase-file"), env) };

    const report = await checkRequirements({
      ca: { file: caPath, certificate: ca },
      leaf: { file: certPath, certificate: leaf },
      intermediates,
      key,
      now: new Date(),
      leafWarnWithin,
      caWarnWithin: DEFAULT_CA_WARN_WITHIN,
    });
    if (flags.values.json) {
      writeStdout(JSON.stringify({ ...report, warnWithin: formatDuration(leafWarnWithin) }, null, 2) + "\n");
    } else {
      writeStdout(formatReport(report));
    }
    return report.ok ? 0 : 1;
  },
};
