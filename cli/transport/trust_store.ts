/**
 * The CA certificates certrole's TLS connections trust besides Deno's built-in Mozilla roots
 * (which Deno always trusts): the system store, found the way Go's crypto/x509 finds it on Linux
 * (AWS's signing helper is Go, and curl and OpenSSL agree), plus AWS_CA_BUNDLE as the AWS CLI
 * and SDKs add it.
 *
 * - Bundle file: the first readable of CERT_FILES (Debian's /etc/ssl/certs/ca-certificates.crt
 *   first), or SSL_CERT_FILE instead of the list.
 * - Directories: every file in each of CERT_DIRECTORIES, or in SSL_CERT_DIR's colon-separated
 *   directories instead, skipping symlinks that point within the directory (OpenSSL's hash links).
 * - AWS_CA_BUNDLE: added; unreadable, it is an error (the user named it).
 *
 * Only CERTIFICATE PEM blocks count, and only well-formed ones: one malformed certificate handed
 * to Deno would fail every handshake. Missing files and directories are skipped, as Go skips them.
 */
import type { DebugLog } from "../debug_log.ts";
import { fail, messageOf } from "../errors.ts";
import { childrenOf, type DerNode, readDocument, TAG } from "../identity/der.ts";

/** Go's root_linux.go: possible bundle files, the first readable one is used. */
export const CERT_FILES: readonly string[] = [
  "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Gentoo
  "/etc/pki/tls/certs/ca-bundle.crt", // Fedora, RHEL 6
  "/etc/ssl/ca-bundle.pem", // OpenSUSE
  "/etc/pki/tls/cacert.pem", // OpenELEC
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
  "/etc/ssl/cert.pem", // Alpine
];

/** Go's root_linux.go: directories whose every file is read. */
export const CERT_DIRECTORIES: readonly string[] = ["/etc/ssl/certs", "/etc/pki/tls/certs"];

// Synchronous reads: a system store is a few hundred small files, and async reads of them take
// 45-100 ms on a loaded machine against 7 ms synchronously.

/** A regular file's text; undefined when it is missing or not a regular file (a FIFO would block). */
function readRegular(path: string, debug: DebugLog): string | undefined {
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) {
      debug(`trust store: skipping ${path}: not a regular file`);
      return undefined;
    }
    return Deno.readTextFileSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) debug(`trust store: skipping ${path}: ${messageOf(error)}`);
    return undefined;
  }
}

/** The same entries Go's readUniqueDirectoryEntries keeps: all but symlinks to a name in the directory. */
function directoryFiles(directory: string, debug: DebugLog): string[] {
  const paths: string[] = [];
  try {
    for (const entry of Deno.readDirSync(directory)) {
      const path = `${directory}/${entry.name}`;
      if (entry.isSymlink) {
        try {
          if (!Deno.readLinkSync(path).includes("/")) continue;
        } catch {
          continue;
        }
      }
      paths.push(path);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) debug(`trust store: skipping ${directory}: ${messageOf(error)}`);
  }
  return paths.sort();
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/**
 * Whether the DER has the shape Deno's verifier needs of a root: Certificate { TBSCertificate {
 * [0] version?, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, ... },
 * signatureAlgorithm, signature }.
 */
function isCertificateShaped(der: Uint8Array): boolean {
  try {
    const outer = childrenOf(readDocument(der));
    if (outer.length !== 3 || outer[0].tag !== TAG.SEQUENCE || outer[2].tag !== TAG.BIT_STRING) return false;
    const tbs: DerNode[] = childrenOf(outer[0]);
    const fields = tbs[0]?.tag === 0xa0 ? tbs.slice(1) : tbs;
    const tags = [TAG.INTEGER, TAG.SEQUENCE, TAG.SEQUENCE, TAG.SEQUENCE, TAG.SEQUENCE, TAG.SEQUENCE];
    if (fields.length < tags.length || tags.some((tag, index) => fields[index].tag !== tag)) return false;
    childrenOf(fields[5]); // subjectPublicKeyInfo must itself parse
    return true;
  } catch {
    return false;
  }
}

/** Adds the well-formed CERTIFICATE blocks of `text` to `into` (keyed by their base64, so each once). */
function addCertificates(text: string, source: string, into: Map<string, string>, debug: DebugLog): void {
  for (const match of text.matchAll(PEM_CERTIFICATE)) {
    const base64 = match[1].replace(/\s+/g, "");
    if (into.has(base64)) continue;
    let der: Uint8Array;
    try {
      der = Uint8Array.fromBase64(base64);
    } catch {
      debug(`trust store: skipping a certificate in ${source}: not base64`);
      continue;
    }
    if (!isCertificateShaped(der)) {
      debug(`trust store: skipping a certificate in ${source}: not a well-formed X.509 certificate`);
      continue;
    }
    const lines = base64.match(/.{1,64}/g)!.join("\n");
    into.set(base64, `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`);
  }
}

/** The extra roots, as PEM certificates for Deno.startTls's caCerts. */
export async function trustedCertificates(
  env: (name: string) => string | undefined,
  debug: DebugLog,
): Promise<string[]> {
  const found = new Map<string, string>();
  const certFile = env("SSL_CERT_FILE");
  for (const file of certFile ? [certFile] : CERT_FILES) {
    const text = readRegular(file, debug);
    if (text === undefined) continue;
    addCertificates(text, file, found, debug);
    break;
  }
  const certDir = env("SSL_CERT_DIR");
  for (const directory of certDir ? certDir.split(":") : CERT_DIRECTORIES) {
    for (const path of directoryFiles(directory, debug)) {
      const text = readRegular(path, debug);
      if (text !== undefined) addCertificates(text, path, found, debug);
    }
  }
  const system = found.size;
  const bundle = env("AWS_CA_BUNDLE");
  if (bundle) {
    let text: string | undefined;
    try {
      if (!(await Deno.stat(bundle)).isFile) throw new Error("not a regular file");
      text = await Deno.readTextFile(bundle);
    } catch (error) {
      fail(
        "InvalidCaBundle",
        `AWS_CA_BUNDLE file "${bundle}" cannot be read (${messageOf(error)}): fix or unset AWS_CA_BUNDLE`,
      );
    }
    const before = found.size;
    addCertificates(text, bundle, found, debug);
    if (found.size === before && !PEM_CERTIFICATE.test(text)) {
      fail("InvalidCaBundle", `AWS_CA_BUNDLE file "${bundle}" holds no PEM certificate: fix or unset AWS_CA_BUNDLE`);
    }
  }
  debug(
    `trust store: Deno's Mozilla roots, ${system} system certificate(s)` +
      `${certFile ? ` (SSL_CERT_FILE=${certFile})` : ""}${certDir ? ` (SSL_CERT_DIR=${certDir})` : ""}` +
      `${bundle ? `, ${found.size - system} more from AWS_CA_BUNDLE` : ""}`,
  );
  return [...found.values()];
}
