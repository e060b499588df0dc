/**
 * The credential server's TLS certificate chain and key, PEM, read from their files: at start (a
 * problem is a one-line CertroleError; regular files of bounded size only, as for the identity)
 * and again whenever the files change, so a certificate that cert-manager or another issuer renews
 * takes over without a restart.
 */
import { type ErrorCode, fail } from "../errors.ts";
import { type FileRole, readInputFile } from "../identity/input_file.ts";

export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

const TLS_CERT_FILE: FileRole = { what: "TLS certificate", setting: "--tls-cert or ROLESANYWHERE_TLS_CERT" };
const TLS_KEY_FILE: FileRole = { what: "TLS private key", setting: "--tls-key or ROLESANYWHERE_TLS_KEY" };

async function readPem(code: ErrorCode, path: string, role: FileRole, header: RegExp) {
  const text = new TextDecoder().decode(await readInputFile(path, role));
  if (!header.test(text)) {
    fail(
      code,
      `${role.what} file "${path}" holds no PEM ${role.what.replace("TLS ", "")}: set ${role.setting} to a PEM file`,
    );
  }
  return text;
}

export async function readTlsPair(certFile: string, keyFile: string): Promise<TlsPair> {
  return {
    cert: await readPem("InvalidCertificate", certFile, TLS_CERT_FILE, /-----BEGIN CERTIFICATE-----/),
    key: await readPem("InvalidPrivateKey", keyFile, TLS_KEY_FILE, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  };
}
