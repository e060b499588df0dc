/**
 * A private CA's work, done the way IAM Roles Anywhere wants it: key pairs (RSA 2048/3072/4096,
 * EC P-256/P-384, ML-DSA-44/65/87), the CA's self-signed certificate (v3, basicConstraints CA:TRUE and keyUsage
 * keyCertSign + cRLSign, both critical, subject and authority key identifiers) and end-entity
 * certificates signed by it (CA:FALSE and digitalSignature, both critical, optional clientAuth,
 * SANs, a random positive serial). Signs with SHA-256, SHA-384 for P-384 keys, pure ML-DSA for
 * ML-DSA keys; any key type may sign any other (an ML-DSA CA can certify an RSA key, and so on).
 *
 * Built on @peculiar/x509, which costs ~230 ms to import: only the pki commands load this module.
 * Validity dates and serials are inputs; nothing here reads the clock or touches files.
 *
 * @example
 * ```ts
 * const keys = await generateKeyPair("ec-p256");
 * const notBefore = new Date();
 * const notAfter = new Date(notBefore.getTime() + 365 * 86_400_000);
 * const caDer = await createCaCertificate({ keys, subject: encodeName({ cn: "myPrivateCA" }), notBefore, notAfter });
 * ```
 */
import type * as X509 from "@peculiar/x509";
import { fail } from "../errors.ts";
import type { KeyType } from "./key_type.ts";
import type { Certificate } from "../identity/certificate.ts";
import { concatBytes, oid, sequence, TAG, tlv } from "../identity/der.ts";
import { encryptPkcs8 } from "../identity/key_encryption.ts";
import { toPem } from "../identity/pem.ts";

// @peculiar/x509 needs the Reflect polyfill in place before it evaluates. Static imports do not
// guarantee that once bundled: esbuild's code splitting may order the two chunks either way (a
// bundle once evaluated x509 first and failed with "tsyringe requires a reflect polyfill").
await import("reflect-metadata");
const x509 = await import("@peculiar/x509");

x509.cryptoProvider.set(crypto);

/** WebCrypto parameters for generating and signing with a key type. */
function algorithmFor(type: KeyType): RsaHashedKeyGenParams | EcKeyGenParams | Algorithm {
  switch (type) {
    case "ml-dsa-44":
    case "ml-dsa-65":
    case "ml-dsa-87":
      return { name: type.toUpperCase() };
    case "rsa-2048":
    case "rsa-3072":
    case "rsa-4096":
      return {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: Number(type.slice(4)),
        publicExponent: Uint8Array.of(1, 0, 1),
        hash: "SHA-256",
      };
    case "ec-p256":
      return { name: "ECDSA", namedCurve: "P-256" };
    case "ec-p384":
      return { name: "ECDSA", namedCurve: "P-384" };
  }
}

/** A new key pair whose private half is extractable, so it can be exported (encrypted) to a file. */
export async function generateKeyPair(type: KeyType): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(algorithmFor(type), true, ["sign", "verify"]) as CryptoKeyPair;
}

/**
 * The signature algorithm for a signing key: RSA keys carry their hash (SHA-256 as certrole
 * imports them); ECDSA pairs the hash with the curve, as openssl and AWS Private CA do; ML-DSA
 * signs the TBSCertificate itself (RFC 9881), so its name is all.
 */
function signingAlgorithm(key: CryptoKey): Algorithm | EcdsaParams {
  if (key.algorithm.name.startsWith("ML-DSA-")) return { name: key.algorithm.name };
  if (key.algorithm.name === "ECDSA") {
    const curve = (key.algorithm as EcKeyAlgorithm).namedCurve;
    return { name: "ECDSA", hash: curve === "P-384" ? "SHA-384" : "SHA-256" } as EcdsaParams;
  }
  return { name: key.algorithm.name, hash: "SHA-256" } as Algorithm;
}

/** Subject fields, in the order openssl's `-subj /C=../ST=../L=../O=../OU=../CN=..` writes them. */
export interface SubjectFields {
  readonly country?: string;
  readonly state?: string;
  readonly locality?: string;
  readonly org?: string;
  readonly orgUnit?: string;
  readonly cn?: string;
}

const NAME_FIELDS: readonly (readonly [keyof SubjectFields, string, string])[] = [
  ["country", "2.5.4.6", "--country"],
  ["state", "2.5.4.8", "--state"],
  ["locality", "2.5.4.7", "--locality"],
  ["org", "2.5.4.10", "--org"],
  ["orgUnit", "2.5.4.11", "--org-unit"],
  ["cn", "2.5.4.3", "--cn"],
];

/**
 * The DER of a distinguished name, one attribute per RDN: country as PrintableString (RFC 5280
 * requires it), the rest as UTF8String. Built here rather than from a "CN=a, O=b" string so that
 * commas, plus signs or a leading "#" in a value stay literal.
 */
export function encodeName(fields: SubjectFields): Uint8Array<ArrayBuffer> {
  const rdns: Uint8Array[] = [];
  for (const [field, attributeOid, flag] of NAME_FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    if (value.trim() === "") fail("InvalidSetting", `${flag} must not be empty`);
    if (value.length > 64) fail("InvalidSetting", `${flag} is longer than X.509's 64-character limit`);
    let encoded: Uint8Array;
    if (field === "country") {
      if (!/^[A-Za-z]{2}$/.test(value)) {
        fail("InvalidSetting", `--country "${value}" is not a two-letter code like US`);
      }
      encoded = tlv(TAG.PRINTABLE_STRING, new TextEncoder().encode(value.toUpperCase()));
    } else {
      encoded = tlv(TAG.UTF8_STRING, new TextEncoder().encode(value));
    }
    rdns.push(tlv(TAG.SET, sequence(oid(attributeOid), encoded)));
  }
  return tlv(TAG.SEQUENCE, concatBytes(rdns));
}

/**
 * A fresh serial: 16 random bytes (128 bits, more than the CA/Browser Forum's 64) with the top
 * bit cleared, so it encodes as a positive INTEGER of at most 17 bytes (RFC 5280 allows 20).
 */
export function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) || 0x01;
  return bytes.toHex();
}

export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface CaCertificateOptions extends Validity {
  readonly keys: CryptoKeyPair;
  /** DER from encodeName. */
  readonly subject: Uint8Array<ArrayBuffer>;
  /** Hex; random when absent. */
  readonly serial?: string;
}

/** A self-signed CA certificate that Roles Anywhere accepts as a trust anchor; returns DER. */
export async function createCaCertificate(options: CaCertificateOptions): Promise<Uint8Array<ArrayBuffer>> {
  const ski = await x509.SubjectKeyIdentifierExtension.create(options.keys.publicKey);
  const name = new x509.Name(options.subject);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: options.serial ?? randomSerial(),
    subject: name,
    issuer: name,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: options.keys.publicKey,
    signingKey: options.keys.privateKey,
    signingAlgorithm: signingAlgorithm(options.keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ski,
      new x509.AuthorityKeyIdentifierExtension(ski.keyId),
    ],
  });
  return new Uint8Array(certificate.rawData);
}

export interface SubjectAltNameFields {
  readonly dns?: readonly string[];
  readonly uri?: readonly string[];
  readonly email?: readonly string[];
}

export interface LeafCertificateOptions extends Validity {
  /** The CA certificate (parsed) and its private key. */
  readonly issuer: { readonly certificate: Certificate; readonly signingKey: CryptoKey };
  /** SubjectPublicKeyInfo DER of the key being certified. */
  readonly publicKey: Uint8Array<ArrayBuffer>;
  /** DER of the subject name. */
  readonly subject: Uint8Array<ArrayBuffer>;
  readonly altNames?: SubjectAltNameFields;
  /** Adds extendedKeyUsage clientAuth. */
  readonly clientAuth?: boolean;
  readonly serial?: string;
}

/** An end-entity certificate for Roles Anywhere, signed by the CA's key; returns DER. */
export async function createLeafCertificate(options: LeafCertificateOptions): Promise<Uint8Array<ArrayBuffer>> {
  const ca = options.issuer.certificate;
  // The authority key identifier must equal the CA's subject key identifier when it has one
  // (a CA made elsewhere may use another method than SHA-1 of the key).
  const authorityKeyId = ca.subjectKeyId
    ? new x509.AuthorityKeyIdentifierExtension(ca.subjectKeyId.toHex())
    : await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey.spki);
  const names: X509.JsonGeneralName[] = [
    ...(options.altNames?.dns ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.altNames?.uri ?? []).map((value) => ({ type: "url" as const, value })),
    ...(options.altNames?.email ?? []).map((value) => ({ type: "email" as const, value })),
  ];
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(options.publicKey),
    authorityKeyId,
  ];
  if (options.clientAuth) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]));
  // An empty subject makes the SAN extension mandatory and critical (RFC 5280 4.2.1.6).
  const emptySubject = options.subject.length === 2;
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, emptySubject));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: options.serial ?? randomSerial(),
    subject: new x509.Name(options.subject),
    // The CA's subject bytes as they are, so name matching never depends on string re-encoding.
    issuer: new x509.Name(Uint8Array.from(ca.subject.der)),
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    publicKey: options.publicKey,
    signingKey: options.issuer.signingKey,
    signingAlgorithm: signingAlgorithm(options.issuer.signingKey),
    extensions,
  });
  return new Uint8Array(certificate.rawData);
}

export interface CertificateRequest {
  /** DER of the requested subject. */
  readonly subject: Uint8Array<ArrayBuffer>;
  readonly subjectText: string;
  /** SubjectPublicKeyInfo DER. */
  readonly publicKey: Uint8Array<ArrayBuffer>;
}

/**
 * Reads a PKCS#10 CSR (PEM or DER) and checks its self-signature, the proof that the requester
 * holds the private key. Throws a one-line CertroleError naming `path`.
 */
export async function readCertificateRequest(bytes: Uint8Array, path: string): Promise<CertificateRequest> {
  const text = new TextDecoder().decode(bytes);
  let request: X509.Pkcs10CertificateRequest;
  try {
    request = text.includes("-----BEGIN")
      ? new x509.Pkcs10CertificateRequest(text.trim())
      : new x509.Pkcs10CertificateRequest(Uint8Array.from(bytes));
  } catch {
    fail(
      "InvalidCsr",
      `CSR "${path}" is not a PKCS#10 certificate request (PEM "CERTIFICATE REQUEST" or DER): make one with openssl req -new`,
    );
  }
  let verified = false;
  try {
    verified = await request.verify();
  } catch {
    verified = false;
  }
  if (!verified) {
    fail("InvalidCsr", `CSR "${path}" has a signature that does not verify: make it again with its own key`);
  }
  return {
    subject: new Uint8Array(request.subjectName.toArrayBuffer()),
    subjectText: request.subject,
    publicKey: new Uint8Array(request.publicKey.rawData),
  };
}

/**
 * The PEM a new private key is written as: PKCS#8 encrypted with PBES2 (PBKDF2-HMAC-SHA256,
 * AES-256-CBC), "ENCRYPTED PRIVATE KEY", or plain PKCS#8 "PRIVATE KEY" without a passphrase.
 * ML-DSA keys are the 32-byte seed form, as RFC 9881 recommends (WebCrypto exports nothing else).
 * The plain bytes are wiped once encrypted.
 */
export async function privateKeyPem(privateKey: CryptoKey, passphrase: string | undefined): Promise<string> {
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey));
  try {
    return passphrase === undefined
      ? toPem("PRIVATE KEY", pkcs8)
      : toPem("ENCRYPTED PRIVATE KEY", await encryptPkcs8(pkcs8, passphrase));
  } finally {
    pkcs8.fill(0);
  }
}

/** SubjectPublicKeyInfo DER of a public key. */
export async function spkiOf(publicKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
}
