/**
 * The identity certrole signs with: the end-entity certificate, its intermediates and the
 * matching private key, read from files and checked before any network call (validity window,
 * key type, key matches certificate). Every failure is a one-line CertroleError naming the file
 * and the fix.
 */
import { CertroleError, fail, messageOf } from "../errors.ts";
import { type Certificate, parseCertificate, validityAt } from "./certificate.ts";
import { DerError, readDocument } from "./der.ts";
import { looksLikePem, parsePem, type PemBlock, PemError } from "./pem.ts";
import { KeyError, parsePrivateKey, type PrivateKey } from "./private_key.ts";
import { type FileRole, readInputFile } from "./input_file.ts";
import { KEY_PASSPHRASE_NAMES, type Passphrase, type PassphraseNames, passphraseSettings } from "./passphrase.ts";

export type { FileRole };
export { MAX_INPUT_FILE_BYTES, readInputFile } from "./input_file.ts";

export interface Identity {
  readonly certificate: Certificate;
  readonly intermediates: readonly Certificate[];
  readonly key: PrivateKey;
}

export const CERTIFICATE_FILE: FileRole = {
  what: "certificate",
  setting: "--certificate or ROLESANYWHERE_CERT_LOCATION",
};
export const PRIVATE_KEY_FILE: FileRole = {
  what: "private key",
  setting: "--private-key or ROLESANYWHERE_KEY_LOCATION",
};
export const INTERMEDIATES_FILE: FileRole = {
  what: "intermediates bundle",
  setting: "--intermediates or ROLESANYWHERE_INTERMEDIATES_LOCATION",
};

/** The PEM blocks of a file, a malformed one reported through `invalid` (which throws). */
function pemBlocksOr(text: string, invalid: (detail: string) => never): PemBlock[] {
  try {
    return parsePem(text);
  } catch (error) {
    if (error instanceof PemError) invalid(error.message);
    throw error;
  }
}

/** The first CERTIFICATE block of a PEM file, or a DER certificate. */
export function certificateFromBytes(bytes: Uint8Array, path: string, role = CERTIFICATE_FILE): Certificate {
  const invalid = (detail: string): never =>
    fail(
      "InvalidCertificate",
      `${role.what} file "${path}" is not a valid X.509 certificate (${detail}): set ${role.setting} to a PEM or DER certificate`,
    );
  if (bytes.length === 0) invalid("the file is empty");
  const text = new TextDecoder().decode(bytes);
  let der: Uint8Array = bytes;
  if (looksLikePem(text)) {
    const blocks = pemBlocksOr(text, invalid);
    const block = blocks.find((candidate) => candidate.label === "CERTIFICATE");
    if (!block) invalid(`no CERTIFICATE block; found ${blocks.map((b) => b.label).join(", ")}`);
    der = block!.bytes;
  }
  try {
    return parseCertificate(der);
  } catch (error) {
    if (error instanceof DerError || error instanceof TypeError || error instanceof RangeError) {
      invalid(looksLikePem(text) || isDerDocument(der) ? `malformed DER: ${error.message}` : "neither PEM nor DER");
    }
    throw error;
  }
}

/** One DER TLV spanning the bytes: a DER file, whatever is wrong inside it. */
function isDerDocument(bytes: Uint8Array): boolean {
  try {
    readDocument(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Every CERTIFICATE block of a PEM bundle; any other block type is an error. */
export function certificatesFromBundle(bytes: Uint8Array, path: string, role = INTERMEDIATES_FILE): Certificate[] {
  const text = new TextDecoder().decode(bytes);
  const invalid = (detail: string): never =>
    fail(
      "InvalidCertificate",
      `${role.what} "${path}" is not a PEM bundle of certificates (${detail}): set ${role.setting} to a file of CERTIFICATE blocks`,
    );
  if (!looksLikePem(text)) invalid("no PEM blocks");
  const blocks = pemBlocksOr(text, invalid);
  const foreign = blocks.find((block) => block.label !== "CERTIFICATE");
  if (foreign) invalid(`it holds a ${foreign.label} block`);
  return blocks.map((block, index) => {
    try {
      return parseCertificate(block.bytes);
    } catch (error) {
      return invalid(`certificate ${index + 1} is malformed: ${messageOf(error)}`);
    }
  });
}

export function checkValidity(certificate: Certificate, path: string, now: Date, what = "certificate"): void {
  const from = certificate.notBefore.toISOString();
  const to = certificate.notAfter.toISOString();
  switch (validityAt(certificate, now)) {
    case "expired":
      fail(
        "CertificateExpired",
        `${what} "${path}" expired at ${to} (valid ${from} to ${to}): issue a new certificate`,
      );
      break;
    case "not-yet-valid":
      fail(
        "CertificateNotYetValid",
        `${what} "${path}" is not valid until ${from} (valid ${from} to ${to}): check the system clock or wait`,
      );
  }
}

/** A key file's name in messages, the setting that points at it and where its passphrase comes from. */
export interface KeyFileRole extends FileRole {
  readonly passphrase: PassphraseNames;
}

export const SIGNING_KEY_FILE: KeyFileRole = { ...PRIVATE_KEY_FILE, passphrase: KEY_PASSPHRASE_NAMES };

function describeKeyError(
  error: KeyError,
  path: string,
  passphrase: Passphrase | undefined,
  role: KeyFileRole,
): CertroleError {
  const file = `${role.what} file "${path}"`;
  switch (error.problem) {
    case "needs-passphrase":
      return new CertroleError(
        "PassphraseRequired",
        `${file} is encrypted and no passphrase was given: set ${passphraseSettings(role.passphrase)}`,
      );
    case "wrong-passphrase":
      return new CertroleError(
        "WrongPassphrase",
        `wrong passphrase for ${file} (passphrase from ${passphrase?.source ?? "nowhere"}): check the passphrase`,
      );
    case "unsupported-key":
      return new CertroleError("UnsupportedKey", `${file}: ${error.message}`);
    case "too-costly":
      return new CertroleError(
        "KeyDerivationLimit",
        `${file} is refused: its ${error.message}; re-encrypt it with OpenSSL's defaults (\`openssl pkcs8 -topk8 -v2 aes-256-cbc\`)`,
      );
    case "unsupported-cipher":
      return new CertroleError(
        "UnsupportedKeyEncryption",
        `${file}: ${error.message}; re-encrypt it with \`openssl pkcs8 -topk8 -v2 aes-256-cbc\``,
      );
    case "no-key":
      return new CertroleError(
        "InvalidPrivateKey",
        `${file} holds no private key (${error.message}): set ${role.setting} to the key's path`,
      );
    case "corrupt":
      return new CertroleError(
        "InvalidPrivateKey",
        `${file} is corrupt (${error.message}): restore the PEM or DER key the certificate was issued for`,
      );
  }
}

/** Parses a key file, with one-line errors for every KeyError problem. */
export async function privateKeyFromBytes(
  bytes: Uint8Array,
  path: string,
  passphrase: Passphrase | undefined,
  role: KeyFileRole = SIGNING_KEY_FILE,
): Promise<PrivateKey> {
  try {
    return await parsePrivateKey(bytes, { passphrase: passphrase?.value });
  } catch (error) {
    if (error instanceof KeyError) throw describeKeyError(error, path, passphrase, role);
    throw error;
  }
}

/**
 * The certificate's RSA or P-256/P-384 public key as WebCrypto reads it, or the reason it cannot
 * (a point off the curve, a malformed modulus). undefined for other key types: ML-DSA keys are
 * fixed-size strings any bytes of which are a key, and other curves are refused elsewhere.
 */
async function certificatePublicJwk(
  certificate: Certificate,
): Promise<{ jwk: JsonWebKey } | { problem: string } | undefined> {
  const publicKey = certificate.publicKey;
  const algorithm = publicKey.type === "RSA"
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : publicKey.type === "EC" && (publicKey.curve === "P-256" || publicKey.curve === "P-384")
    ? { name: "ECDSA", namedCurve: publicKey.curve }
    : undefined;
  if (!algorithm) return undefined;
  try {
    const imported = await crypto.subtle.importKey("spki", publicKey.spki, algorithm, true, ["verify"]);
    // Deno imports some invalid keys and fails only when they are used: exporting proves the key.
    return { jwk: await crypto.subtle.exportKey("jwk", imported) };
  } catch (error) {
    return { problem: messageOf(error) };
  }
}

/** Fails with a one-line InvalidCertificate when the certificate's public key is not a valid key. */
export async function checkPublicKey(certificate: Certificate, path: string, role = CERTIFICATE_FILE): Promise<void> {
  const result = await certificatePublicJwk(certificate);
  if (result && "problem" in result) {
    fail(
      "InvalidCertificate",
      `${role.what} file "${path}" holds an invalid ${certificate.publicKey.type} public key (${result.problem}): set ${role.setting} to the certificate issued for your key`,
    );
  }
}

/** Compares the key's public half with the certificate's public key; an invalid public key matches nothing. */
export async function keyMatchesCertificate(key: PrivateKey, certificate: Certificate): Promise<boolean> {
  const publicKey = certificate.publicKey;
  if (publicKey.type !== key.type) return false;
  if (publicKey.type === "ML-DSA") {
    return publicKey.parameterSet === key.parameterSet &&
      publicKey.publicKey.toBase64({ alphabet: "base64url" }) === key.publicJwk.pub;
  }
  if (publicKey.type === "EC" && publicKey.curve !== key.curve) return false;
  const result = await certificatePublicJwk(certificate);
  if (!result || !("jwk" in result)) return false;
  const { jwk } = result;
  return key.type === "RSA"
    ? jwk.n === key.publicJwk.n && jwk.e === key.publicJwk.e
    : jwk.x === key.publicJwk.x && jwk.y === key.publicJwk.y;
}

export interface IdentityPaths {
  readonly certificate: string;
  /** When absent the key is read from the certificate file (one PEM with both). */
  readonly privateKey?: string;
  readonly intermediates?: string;
}

/** Loads and checks everything; `now` is passed in so tests can move the clock. */
export async function loadIdentity(
  paths: IdentityPaths,
  passphrase: Passphrase | undefined,
  now: Date,
): Promise<Identity> {
  const certificateBytes = await readInputFile(paths.certificate, CERTIFICATE_FILE);
  const certificate = certificateFromBytes(certificateBytes, paths.certificate);
  checkValidity(certificate, paths.certificate, now);
  await checkPublicKey(certificate, paths.certificate);
  const intermediates = paths.intermediates
    ? certificatesFromBundle(await readInputFile(paths.intermediates, INTERMEDIATES_FILE), paths.intermediates)
    : [];
  intermediates.forEach((intermediate, index) =>
    checkValidity(intermediate, paths.intermediates!, now, `intermediate certificate ${index + 1} in`)
  );
  const keyPath = paths.privateKey ?? paths.certificate;
  const keyBytes = paths.privateKey ? await readInputFile(paths.privateKey, PRIVATE_KEY_FILE) : certificateBytes;
  const key = await privateKeyFromBytes(keyBytes, keyPath, passphrase);
  keyBytes.fill(0);
  if (!(await keyMatchesCertificate(key, certificate))) {
    fail(
      "KeyMismatch",
      `private key "${keyPath}" (${key.description}) does not match certificate "${paths.certificate}": use the key the certificate was issued for`,
    );
  }
  return { certificate, intermediates, key };
}
