/**
 * X.509 certificates: parsing DER into the fields certrole signs with, checks and evaluates
 * policies on (serial in decimal, validity, names, public key, the extensions Roles Anywhere
 * cares about). Pure; reading files lives in identity.ts.
 *
 * @example
 * ```ts
 * const der = await Deno.readFile("cert.der");
 * const certificate = parseCertificate(der);
 * console.log(certificate.serialDecimal, certificate.subject.text);
 * ```
 */
import {
  childrenOf,
  contextTag,
  DerError,
  type DerNode,
  encodedOf,
  expectTag,
  readBitString,
  readBoolean,
  readDocument,
  readInteger,
  readOctetString,
  readOid,
  readSmallInteger,
  readString,
  readTime,
  readUnsignedBytes,
  sequenceOf,
  TAG,
  valueOf,
} from "./der.ts";
import { CURVES, ML_DSA, type MlDsaParameterSet, NAME_ATTRIBUTES, OID } from "./oids.ts";

export interface NameAttribute {
  readonly oid: string;
  /** CN, O, OU, ... or the dotted OID when the attribute has no short name. */
  readonly type: string;
  readonly value: string;
}

export interface DistinguishedName {
  readonly attributes: readonly NameAttribute[];
  /** RFC 4514-style text, most significant RDN last (as openssl -nameopt RFC2253 prints). */
  readonly text: string;
  readonly der: Uint8Array;
}

export type PublicKeyInfo =
  | { readonly type: "RSA"; readonly bits: number; readonly spki: Uint8Array<ArrayBuffer> }
  | {
    readonly type: "EC";
    readonly curveOid: string;
    /** WebCrypto name, or undefined for curves WebCrypto does not support. */
    readonly curve?: "P-256" | "P-384" | "P-521";
    readonly spki: Uint8Array<ArrayBuffer>;
  }
  | {
    readonly type: "ML-DSA";
    readonly parameterSet: MlDsaParameterSet;
    /** The raw public key (ρ and t1), the BIT STRING's contents. */
    readonly publicKey: Uint8Array<ArrayBuffer>;
    readonly spki: Uint8Array<ArrayBuffer>;
  }
  | { readonly type: "other"; readonly algorithmOid: string; readonly spki: Uint8Array<ArrayBuffer> };

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly uri: readonly string[];
  readonly email: readonly string[];
  readonly ip: readonly string[];
  readonly directoryNames: readonly DistinguishedName[];
}

export interface KeyUsage {
  readonly digitalSignature: boolean;
  readonly nonRepudiation: boolean;
  readonly keyEncipherment: boolean;
  readonly dataEncipherment: boolean;
  readonly keyAgreement: boolean;
  readonly keyCertSign: boolean;
  readonly cRLSign: boolean;
}

export interface Certificate {
  readonly der: Uint8Array<ArrayBuffer>;
  readonly tbs: Uint8Array<ArrayBuffer>;
  /** 1, 2 or 3 (the encoded value plus one). */
  readonly version: number;
  readonly serial: bigint;
  /** The serial as Roles Anywhere wants it in the Credential field: decimal. */
  readonly serialDecimal: string;
  readonly signatureAlgorithm: { readonly oid: string; readonly parameters?: Uint8Array };
  readonly signature: Uint8Array<ArrayBuffer>;
  readonly issuer: DistinguishedName;
  readonly subject: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  readonly extensions: readonly Extension[];
  /** undefined when the extension is absent. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number; readonly critical: boolean };
  readonly keyUsage?: KeyUsage & { readonly critical: boolean };
  readonly extendedKeyUsage?: readonly string[];
  readonly subjectAltNames: SubjectAltNames;
  readonly subjectKeyId?: Uint8Array;
  readonly authorityKeyId?: Uint8Array;
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(bytes);
}

/**
 * RFC 5280 caps serial numbers at 20 octets; some CAs have issued a few more (a sign byte, 32-byte
 * random serials), so certrole reads up to 64 and refuses more rather than carry megabytes of one.
 */
export const MAX_SERIAL_BYTES = 64;

/** Parses one DER certificate. Throws DerError when it is not one. */
export function parseCertificate(der: Uint8Array): Certificate {
  const root = readDocument(der);
  const [tbsNode, signatureAlgorithmNode, signatureNode] = sequenceOf(root, "Certificate");
  const tbsFields = sequenceOf(tbsNode, "TBSCertificate");
  let index = 0;
  let version = 1;
  if (tbsFields[0]?.tag === contextTag(0, true)) {
    version = readSmallInteger(childrenOf(tbsFields[0])[0], "certificate version") + 1;
    if (version > 3) throw new DerError(`certificate version ${version} is not 1, 2 or 3`);
    index = 1;
  }
  const serialNode = expectTag(tbsFields[index++], TAG.INTEGER, "serialNumber");
  if (serialNode.end - serialNode.valueStart > MAX_SERIAL_BYTES) {
    throw new DerError(
      `the serial number is ${
        serialNode.end - serialNode.valueStart
      } bytes long (RFC 5280 allows 20; certrole reads up to ${MAX_SERIAL_BYTES})`,
    );
  }
  const serial = readInteger(serialNode);
  index++; // the inner signature AlgorithmIdentifier repeats the outer one
  const issuer = parseName(tbsFields[index++]);
  const validity = sequenceOf(tbsFields[index++], "Validity");
  if (validity.length !== 2) throw new DerError(`Validity has ${validity.length} fields, not notBefore and notAfter`);
  const [notBefore, notAfter] = validity.map(readTime);
  const subject = parseName(tbsFields[index++]);
  const publicKey = parsePublicKeyInfo(tbsFields[index++]);
  const extensions: Extension[] = [];
  for (const field of tbsFields.slice(index)) {
    if (field.tag !== contextTag(3, true)) continue; // issuer/subject unique IDs
    for (const extension of sequenceOf(childrenOf(field)[0], "Extensions")) {
      const parts = sequenceOf(extension, "Extension");
      const critical = parts.length === 3 ? readBoolean(parts[1]) : false;
      extensions.push({
        oid: readOid(parts[0]),
        critical,
        value: copy(readOctetString(parts[parts.length - 1])),
      });
    }
  }
  const algorithm = sequenceOf(signatureAlgorithmNode, "signatureAlgorithm");
  const signature = readBitString(signatureNode).bytes;
  const find = (oid: string) => extensions.find((extension) => extension.oid === oid);
  return {
    der: copy(der),
    tbs: copy(encodedOf(tbsNode)),
    version,
    serial,
    serialDecimal: serial.toString(10),
    signatureAlgorithm: {
      oid: readOid(algorithm[0]),
      parameters: algorithm[1] && algorithm[1].tag !== TAG.NULL ? copy(encodedOf(algorithm[1])) : undefined,
    },
    signature: copy(signature),
    issuer,
    subject,
    notBefore,
    notAfter,
    publicKey,
    extensions,
    basicConstraints: mapExtension(find(OID.basicConstraints), parseBasicConstraints),
    keyUsage: mapExtension(find(OID.keyUsage), parseKeyUsage),
    extendedKeyUsage: find(OID.extKeyUsage) &&
      sequenceOf(readDocument(find(OID.extKeyUsage)!.value), "ExtKeyUsage").map(readOid),
    subjectAltNames: parseSubjectAltNames(find(OID.subjectAltName)?.value),
    subjectKeyId: find(OID.subjectKeyIdentifier) &&
      copy(readOctetString(readDocument(find(OID.subjectKeyIdentifier)!.value))),
    authorityKeyId: parseAuthorityKeyId(find(OID.authorityKeyIdentifier)?.value),
  };
}

function mapExtension<T>(
  extension: Extension | undefined,
  parse: (value: Uint8Array) => T,
): (T & { critical: boolean }) | undefined {
  return extension && { ...parse(extension.value), critical: extension.critical };
}

/** Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue). */
export function parseName(node: DerNode): DistinguishedName {
  const attributes: NameAttribute[] = [];
  for (const rdn of sequenceOf(node, "Name")) {
    for (const pair of childrenOf(expectTag(rdn, TAG.SET, "RelativeDistinguishedName"))) {
      const [typeNode, valueNode] = sequenceOf(pair, "AttributeTypeAndValue");
      const oid = readOid(typeNode);
      attributes.push({ oid, type: NAME_ATTRIBUTES[oid] ?? oid, value: readString(valueNode) });
    }
  }
  const text = attributes
    .map(({ type, value }) => `${type}=${value.replace(/([,+"\\<>;])/g, "\\$1")}`)
    .reverse()
    .join(",");
  return { attributes, text, der: copy(encodedOf(node)) };
}

/** A SubjectPublicKeyInfo on its own (from a CSR, say): key type, RSA size, EC curve. */
export function parseSubjectPublicKeyInfo(der: Uint8Array): PublicKeyInfo {
  return parsePublicKeyInfo(readDocument(der));
}

function parsePublicKeyInfo(node: DerNode): PublicKeyInfo {
  const [algorithmNode, keyNode] = sequenceOf(node, "SubjectPublicKeyInfo");
  const algorithm = sequenceOf(algorithmNode, "AlgorithmIdentifier");
  const algorithmOid = readOid(algorithm[0]);
  const spki = copy(encodedOf(node));
  if (algorithmOid === OID.rsaEncryption) {
    const [modulus] = sequenceOf(readDocument(readBitString(keyNode).bytes), "RSAPublicKey");
    return { type: "RSA", bits: bitLength(readUnsignedBytes(modulus)), spki };
  }
  if (algorithmOid === OID.ecPublicKey) {
    const curveOid = algorithm[1]?.tag === TAG.OID ? readOid(algorithm[1]) : "explicit parameters";
    return { type: "EC", curveOid, curve: CURVES[curveOid]?.name, spki };
  }
  const mlDsa = ML_DSA[algorithmOid];
  if (mlDsa) {
    // RFC 9881: the parameters are absent and the key is exactly the parameter set's size.
    if (algorithm.length !== 1) throw new DerError(`${mlDsa.name} AlgorithmIdentifier has parameters`);
    const { bytes, unusedBits } = readBitString(keyNode);
    if (unusedBits !== 0 || bytes.length !== mlDsa.publicKeyLength) {
      throw new DerError(`${mlDsa.name} public key is ${bytes.length} bytes, not ${mlDsa.publicKeyLength}`);
    }
    return { type: "ML-DSA", parameterSet: mlDsa.name, publicKey: copy(bytes), spki };
  }
  return { type: "other", algorithmOid, spki };
}

export function bitLength(magnitude: Uint8Array): number {
  if (magnitude.length === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]));
}

function parseBasicConstraints(value: Uint8Array): { ca: boolean; pathLength?: number } {
  const fields = sequenceOf(readDocument(value), "BasicConstraints");
  let ca = false;
  let pathLength: number | undefined;
  for (const field of fields) {
    if (field.tag === TAG.BOOLEAN) ca = readBoolean(field);
    if (field.tag === TAG.INTEGER) pathLength = Number(readInteger(field));
  }
  return { ca, pathLength };
}

function parseKeyUsage(value: Uint8Array): KeyUsage {
  const { bytes } = readBitString(readDocument(value));
  const bit = (n: number) => ((bytes[n >> 3] ?? 0) & (0x80 >> (n & 7))) !== 0;
  return {
    digitalSignature: bit(0),
    nonRepudiation: bit(1),
    keyEncipherment: bit(2),
    dataEncipherment: bit(3),
    keyAgreement: bit(4),
    keyCertSign: bit(5),
    cRLSign: bit(6),
  };
}

function parseSubjectAltNames(value: Uint8Array | undefined): SubjectAltNames {
  const names = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
  const directoryNames: DistinguishedName[] = [];
  if (!value) return { ...names, directoryNames };
  const text = (node: DerNode) => new TextDecoder().decode(valueOf(node));
  for (const name of sequenceOf(readDocument(value), "SubjectAltName")) {
    switch (name.tag) {
      case contextTag(1, false):
        names.email.push(text(name));
        break;
      case contextTag(2, false):
        names.dns.push(text(name));
        break;
      case contextTag(6, false):
        names.uri.push(text(name));
        break;
      case contextTag(7, false):
        names.ip.push(formatIp(valueOf(name)));
        break;
      case contextTag(4, true):
        directoryNames.push(parseName(childrenOf(name)[0]));
        break;
    }
  }
  return { ...names, directoryNames };
}

function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(":");
}

function parseAuthorityKeyId(value: Uint8Array | undefined): Uint8Array | undefined {
  if (!value) return undefined;
  const keyId = sequenceOf(readDocument(value), "AuthorityKeyIdentifier")
    .find((field) => field.tag === contextTag(0, false));
  return keyId && copy(valueOf(keyId));
}

/** Lower-case hex SHA-256 of the DER, the identity the credential cache keys on. */
export async function fingerprintSha256(certificate: { der: Uint8Array<ArrayBuffer> }): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", certificate.der)).toHex();
}

/** Whether `now` lies inside the certificate's validity window. */
export function validityAt(
  certificate: Pick<Certificate, "notBefore" | "notAfter">,
  now: Date,
): "valid" | "expired" | "not-yet-valid" {
  if (now.getTime() < certificate.notBefore.getTime()) return "not-yet-valid";
  if (now.getTime() > certificate.notAfter.getTime()) return "expired";
  return "valid";
}

/** First value of a subject or issuer attribute (CN, O, ...), as Roles Anywhere tags it. */
export function nameAttribute(name: DistinguishedName, type: string): string | undefined {
  return name.attributes.find((attribute) => attribute.type === type)?.value;
}
