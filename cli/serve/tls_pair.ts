/**
 * The credential server's TLS certificate chain and key, PEM, read from their files: at start
 * (a problem is a one-line CertroleError; regular files only, as for the identity) and again whenever the files change, so a certificate
 * that cert-manager or another issuer renews takes over without a restart.
 */
import { fail } from "../errors.ts";
import { readInputFile } from "../identity/input_file.ts";

export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

async function readPem(path: string, setting: string, kind: "certificate" | "private key", header: RegExp) {
  const text = new TextDecoder().decode(await readInputFile(path, { what: `TLS ${kind}`, setting }));
  if (!header.test(text)) {
    fail(
      kind === "certificate" ? "InvalidCertificate" : "InvalidPrivateKey",
      `${setting} "${path}" holds no PEM ${kind}: give a PEM file`,
    );
  }
  return text;
}

export async function readTlsPair(certFile: string, keyFile: string): Promise<TlsPair> {
  return {
    cert: await readPem(certFile, "--tls-cert", "certificate", /-----BEGIN CERTIFICATE-----/),
    key: await readPem(keyFile, "--tls-key", "private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  };
}
