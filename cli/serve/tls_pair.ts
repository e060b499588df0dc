/**
 * The credential server's TLS certificate chain and key, PEM, read from their files: at start
 * (a problem is a one-line CertroleError) and again whenever the files change, so a certificate
 * that cert-manager or another issuer renews takes over without a restart.
 */
import { fail, messageOf } from "../errors.ts";

export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

async function readPem(path: string, setting: string, kind: string, header: RegExp): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    fail("FileUnreadable", `${setting} "${path}" cannot be read (${messageOf(error)})`);
  }
  if (!header.test(text)) fail("InvalidTlsFile", `${setting} "${path}" holds no PEM ${kind}: give a PEM file`);
  return text;
}

export async function readTlsPair(certFile: string, keyFile: string): Promise<TlsPair> {
  return {
    cert: await readPem(certFile, "--tls-cert", "certificate", /-----BEGIN CERTIFICATE-----/),
    key: await readPem(keyFile, "--tls-key", "private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
  };
}
