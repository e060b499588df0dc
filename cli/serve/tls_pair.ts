/**
 * The credential server's TLS certificate chain and key, PEM, read from their files: at start (a
 * problem is a one-line CertroleError; regular files of bounded size only, as for the identity)
 * and again whenever the files change, so a certificate that cert-manager or another issuer renews
 * takes over without a restart. `checkTlsPair` tries a pair on a throwaway listener and, when TLS
 * refuses it, says which file is wrong and how.
 */
import { type ErrorCode, fail, messageOf } from "../errors.ts";
import { type FileRole, readInputFile } from "../identity/input_file.ts";
import { parseCertificate } from "../identity/certificate.ts";
import { keyMatchesCertificate } from "../identity/identity.ts";
import { parsePem } from "../identity/pem.ts";
import { KeyError, parsePrivateKey } from "../identity/private_key.ts";

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

/**
 * Fails unless Deno's TLS takes the pair. Deno says only "No keys found in key data" or "keys may
 * not be consistent: KeyMismatch", so the refusal is explained from the files: an encrypted key,
 * a certificate or key that does not parse, a key that is not the certificate's. The listener is
 * the judge: a pair it takes is never refused here, whatever certrole's own parsers make of it.
 */
export async function checkTlsPair(pair: TlsPair, files: { certFile: string; keyFile: string }): Promise<void> {
  let refusal: string;
  try {
    Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...pair }).close();
    return;
  } catch (error) {
    refusal = messageOf(error);
  }
  const problem = await tlsPairProblem(pair, files);
  if (problem) fail(problem.code, problem.message);
  fail(
    "InvalidPrivateKey",
    `--tls-cert "${files.certFile}" and --tls-key "${files.keyFile}" are refused by TLS (${refusal}): ` +
      "give a PEM certificate chain and its unencrypted private key",
  );
}

async function tlsPairProblem(
  pair: TlsPair,
  files: { certFile: string; keyFile: string },
): Promise<{ code: ErrorCode; message: string } | undefined> {
  const keyFile = `--tls-key "${files.keyFile}"`;
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pair.key) || /Proc-Type:\s*4,ENCRYPTED/.test(pair.key)) {
    return {
      code: "PassphraseRequired",
      message: `${keyFile} is encrypted: serve reads its TLS key unencrypted ` +
        `(openssl pkey -in ${files.keyFile} -out PLAIN.pem, readable by serve's user only)`,
    };
  }
  let certificate;
  try {
    const block = parsePem(pair.cert).find((candidate) => candidate.label === "CERTIFICATE");
    certificate = parseCertificate(block!.bytes);
  } catch (error) {
    return {
      code: "InvalidCertificate",
      message: `--tls-cert "${files.certFile}" holds no valid certificate (${messageOf(error)}): give the PEM chain, ` +
        "the server's certificate first",
    };
  }
  let key;
  try {
    key = await parsePrivateKey(new TextEncoder().encode(pair.key));
  } catch (error) {
    // A key type certrole does not sign with (Ed25519, P-521) may still be one TLS takes: not judged here.
    if (error instanceof KeyError && error.problem === "unsupported-key") return undefined;
    return {
      code: "InvalidPrivateKey",
      message: `${keyFile} is not a usable private key (${messageOf(error)}): give the unencrypted PEM key`,
    };
  }
  if (!(await keyMatchesCertificate(key, certificate))) {
    return {
      code: "KeyMismatch",
      message: `${keyFile} (${key.description}) is not the key of the certificate in --tls-cert "${files.certFile}" ` +
        `("${certificate.subject.text}", ${certificate.publicKey.type} key): give the key it was issued for`,
    };
  }
  return undefined;
}
