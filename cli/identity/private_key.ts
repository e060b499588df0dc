/**
 * Private keys in every format OpenSSL writes (PKCS#8, PKCS#1, SEC1; PEM or DER; encrypted or
 * not), normalised to PKCS#8 and imported into WebCrypto as a non-exportable signing key.
 * Only RSA (2048 bits or more), EC P-256/P-384 and ML-DSA-44/65/87 (PKCS#8 in the seed,
 * expanded or both form, ml_dsa_key.ts) are accepted: what Roles Anywhere signs with.
 *
 * @example
 * ```ts
 * const key = await parsePrivateKey(await Deno.readFile("key.pem"), { passphrase: "secret" });
 * console.log(key.algorithm); // "AWS4-X509-RSA-SHA256"
 * ```
 */
import { DecryptError } from "./ciphers.ts";
import {
  contextTag,
  DerError,
  type DerNode,
  explicit,
  integer,
  octetString,
  oid,
  readDocument,
  readInteger,
  readOctetString,
  readOid,
  readUnsignedBytes,
  sequence,
  sequenceOf,
  TAG,
  valueOf,
} from "./der.ts";
import { bitLength } from "./certificate.ts";
import {
  decryptLegacyPem,
  decryptPkcs8,
  isEncryptedPkcs8,
  KeyDerivationLimitError,
  UnsupportedEncryptionError,
} from "./key_encryption.ts";
import { type ExpandedMlDsaKey, importMlDsaKey, type MlDsaKeyForm, readMlDsaPrivateKey } from "./ml_dsa_key.ts";
import { CURVES, ML_DSA, type MlDsaParameterSet, OID, oidName } from "./oids.ts";
import { looksLikePem, parsePem, PemError } from "./pem.ts";
import { publicKeyOf } from "./public_key.ts";
import { messageOf } from "../errors.ts";

export type SigningAlgorithm = "AWS4-X509-RSA-SHA256" | "AWS4-X509-ECDSA-SHA256" | "AWS4-X509-MLDSA";

/** A WebCrypto key, or for an ML-DSA key without its seed, the expanded key's bytes. */
export type SigningKey = CryptoKey | ExpandedMlDsaKey;

export interface PrivateKey {
  readonly type: "RSA" | "EC" | "ML-DSA";
  /** "RSA-2048", "EC P-256", "ML-DSA-65", ... for messages. */
  readonly description: string;
  readonly algorithm: SigningAlgorithm;
  readonly signingKey: SigningKey;
  /** The public half as a JWK (ML-DSA: kty "AKP" with the raw public key in "pub"), for matching. */
  readonly publicJwk: JsonWebKey & { readonly pub?: string };
  readonly curve?: "P-256" | "P-384";
  readonly parameterSet?: MlDsaParameterSet;
  /** Which PKCS#8 form an ML-DSA key came in. */
  readonly mlDsaForm?: MlDsaKeyForm;
  readonly encrypted: boolean;
}

export type KeyProblem =
  | "no-key" // nothing that looks like a private key
  | "corrupt" // looks like a key but does not parse
  | "needs-passphrase"
  | "wrong-passphrase"
  | "unsupported-key"
  | "unsupported-cipher"
  | "too-costly"; // key derivation parameters above KEY_DERIVATION_LIMITS

export class KeyError extends Error {
  constructor(readonly problem: KeyProblem, message: string) {
    super(message);
    this.name = "KeyError";
  }
}

const KEY_LABELS = ["PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];
const FOREIGN_KEY_LABELS: Record<string, string> = {
  "DSA PRIVATE KEY": "DSA keys are not supported by Roles Anywhere: use RSA, EC P-256/P-384 or ML-DSA",
  "OPENSSH PRIVATE KEY":
    "OpenSSH key files are not supported: convert with `ssh-keygen -p -m PKCS8 -f FILE` or issue an RSA/EC key",
};

export interface ParseOptions {
  passphrase?: string;
}

/** Parses key file bytes (PEM text or DER). Throws KeyError with a problem code. */
export async function parsePrivateKey(input: Uint8Array, options: ParseOptions = {}): Promise<PrivateKey> {
  if (input.length === 0) throw new KeyError("corrupt", "the file is empty");
  const text = new TextDecoder().decode(input);
  if (looksLikePem(text)) return await parsePemKey(text, options);
  return await parseDerKey(input, options);
}

async function parsePemKey(text: string, options: ParseOptions): Promise<PrivateKey> {
  let blocks;
  try {
    blocks = parsePem(text);
  } catch (error) {
    if (error instanceof PemError) throw new KeyError("corrupt", error.message);
    throw error;
  }
  const foreign = blocks.find((block) => block.label in FOREIGN_KEY_LABELS);
  const block = blocks.find((candidate) => KEY_LABELS.includes(candidate.label));
  if (!block) {
    if (foreign) throw new KeyError("unsupported-key", FOREIGN_KEY_LABELS[foreign.label]);
    const labels = blocks.map((candidate) => candidate.label).join(", ") || "none";
    throw new KeyError("no-key", `no PRIVATE KEY block (found: ${labels})`);
  }
  let der = block.bytes;
  let encrypted = false;
  if (block.headers["Proc-Type"]?.includes("ENCRYPTED")) {
    encrypted = true;
    der = await decrypt(
      options,
      (passphrase) => decryptLegacyPem(block.headers["DEK-Info"] ?? "", block.bytes, passphrase),
    );
  } else if (block.label === "ENCRYPTED PRIVATE KEY") {
    encrypted = true;
    der = await decrypt(options, (passphrase) => decryptPkcs8(block.bytes, passphrase));
  }
  const kind = block.label === "RSA PRIVATE KEY" ? "pkcs1" : block.label === "EC PRIVATE KEY" ? "sec1" : "pkcs8";
  return await importKey(der, kind, encrypted);
}

async function parseDerKey(der: Uint8Array, options: ParseOptions): Promise<PrivateKey> {
  if (isEncryptedPkcs8(der)) {
    const plain = await decrypt(options, (passphrase) => decryptPkcs8(der, passphrase));
    return await importKey(plain, "pkcs8", true);
  }
  return await importKey(der, detectKind(der), false);
}

/** Tells PKCS#8, PKCS#1 and SEC1 DER apart by shape. */
function detectKind(der: Uint8Array): "pkcs8" | "pkcs1" | "sec1" {
  let fields: DerNode[];
  try {
    fields = sequenceOf(readDocument(der), "key");
  } catch {
    throw new KeyError("no-key", "not a PEM file and not a DER-encoded private key");
  }
  if (fields[1]?.tag === TAG.SEQUENCE) return "pkcs8";
  if (fields.length >= 9 && fields.every((field) => field.tag === TAG.INTEGER)) return "pkcs1";
  if (fields[1]?.tag === TAG.OCTET_STRING) return "sec1";
  throw new KeyError("no-key", "not a PEM file and not a DER-encoded private key");
}

async function decrypt(
  options: ParseOptions,
  run: (passphrase: string) => Promise<Uint8Array<ArrayBuffer>>,
): Promise<Uint8Array<ArrayBuffer>> {
  if (options.passphrase === undefined) {
    throw new KeyError("needs-passphrase", "the private key is encrypted and no passphrase was given");
  }
  try {
    return await run(options.passphrase);
  } catch (error) {
    if (error instanceof DecryptError) {
      throw new KeyError("wrong-passphrase", "the passphrase does not decrypt the private key");
    }
    if (error instanceof UnsupportedEncryptionError) {
      throw new KeyError("unsupported-cipher", `the key is encrypted with ${error.algorithm}, which is not supported`);
    }
    if (error instanceof KeyDerivationLimitError) throw new KeyError("too-costly", error.message);
    if (error instanceof DerError) throw new KeyError("corrupt", `the encrypted key is malformed: ${error.message}`);
    throw error;
  }
}

/**
 * Normalises to PKCS#8 and imports. When the bytes came out of a decryption and do not parse,
 * the passphrase was wrong (CBC padding checks let about 1 in 256 wrong passphrases through).
 */
async function importKey(der: Uint8Array, kind: "pkcs8" | "pkcs1" | "sec1", encrypted: boolean): Promise<PrivateKey> {
  let normalised: ReturnType<typeof fromPkcs8>;
  try {
    normalised = kind === "pkcs1" ? fromPkcs1(der) : kind === "sec1" ? fromSec1(der, undefined) : fromPkcs8(der);
  } catch (error) {
    if (error instanceof DerError) {
      if (encrypted) throw new KeyError("wrong-passphrase", "the passphrase does not decrypt the private key");
      throw new KeyError("corrupt", `the private key is malformed: ${error.message}`);
    }
    throw error;
  }
  if (normalised.type === "ML-DSA") return await importMlDsa(normalised.parts, encrypted);
  const { pkcs8, type, bits, curve } = normalised;
  const importAlgorithm = type === "RSA"
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: curve! };
  // Non-extractable from the start: the private half never leaves WebCrypto, not even as a JWK.
  let signingKey: CryptoKey;
  let verifyingKey: CryptoKey;
  let jwk: JsonWebKey;
  try {
    signingKey = await crypto.subtle.importKey("pkcs8", pkcs8, importAlgorithm, false, ["sign"]);
    // Deno imports some invalid keys and fails only when they are used: deriving the public half proves more.
    verifyingKey = await publicKeyOf(signingKey);
    jwk = await crypto.subtle.exportKey("jwk", verifyingKey);
  } catch (error) {
    if (encrypted) throw new KeyError("wrong-passphrase", "the passphrase does not decrypt the private key");
    throw new KeyError("corrupt", `the private key does not load: ${messageOf(error)}`);
  } finally {
    pkcs8.fill(0);
  }
  const publicJwk: JsonWebKey = type === "RSA"
    ? { kty: "RSA", n: jwk.n, e: jwk.e }
    : { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
  await proveKeyPair(signingKey, verifyingKey);
  return {
    type,
    description: type === "RSA" ? `RSA-${bits}` : `EC ${curve}`,
    algorithm: type === "RSA" ? "AWS4-X509-RSA-SHA256" : "AWS4-X509-ECDSA-SHA256",
    signingKey,
    publicJwk,
    curve,
    encrypted,
  };
}

/**
 * Signs once and verifies with the public half. Deno imports and exports keys whose parts
 * disagree (an RSA key with its q and dP swapped, say) and fails, or signs wrongly, only when the
 * key is used: better to say so here, naming the file, than at CreateSession. About 1 ms for
 * RSA-2048, paid only when a session is created.
 */
async function proveKeyPair(signingKey: CryptoKey, verifyingKey: CryptoKey): Promise<void> {
  const message = new TextEncoder().encode("certrole checks that this key signs");
  const name = signingKey.algorithm.name;
  const scheme = name === "ECDSA" ? { name, hash: "SHA-256" } : { name };
  let verified: boolean;
  try {
    const signature = await crypto.subtle.sign(scheme, signingKey, message);
    verified = await crypto.subtle.verify(scheme, verifyingKey, signature, message);
  } catch (error) {
    throw new KeyError("corrupt", `the private key cannot sign: ${messageOf(error)}`);
  }
  if (!verified) {
    throw new KeyError("corrupt", "its private and public parts disagree: a signature made with it does not verify");
  }
}

function rsaResult(pkcs1: Uint8Array) {
  const fields = sequenceOf(readDocument(pkcs1), "RSAPrivateKey");
  if (fields.length < 9) throw new DerError("RSAPrivateKey has too few fields");
  const bits = bitLength(readUnsignedBytes(fields[1]));
  if (bits < 2048) {
    throw new KeyError("unsupported-key", `RSA-${bits} is too small: Roles Anywhere needs RSA 2048 bits or more`);
  }
  return { type: "RSA" as const, bits };
}

function fromPkcs1(der: Uint8Array) {
  const { bits } = rsaResult(der);
  const pkcs8 = sequence(integer(0n), sequence(oid(OID.rsaEncryption), Uint8Array.of(TAG.NULL, 0)), octetString(der));
  return { pkcs8, type: "RSA" as const, bits };
}

function supportedCurve(curveOid: string): "P-256" | "P-384" {
  const curve = CURVES[curveOid]?.name;
  if (curve === "P-256" || curve === "P-384") return curve;
  throw new KeyError(
    "unsupported-key",
    `EC curve ${oidName(curveOid)} is not supported: Roles Anywhere signs with P-256 or P-384`,
  );
}

/** SEC1 ECPrivateKey, rebuilt without the inner [0] parameters (they move to the PKCS#8 header). */
function fromSec1(der: Uint8Array, outerCurveOid: string | undefined) {
  const fields = sequenceOf(readDocument(der), "ECPrivateKey");
  if (readInteger(fields[0]) !== 1n) throw new DerError("ECPrivateKey version is not 1");
  const scalar = readOctetString(fields[1]);
  const parameters = fields.find((field) => field.tag === contextTag(0, true));
  const publicKey = fields.find((field) => field.tag === contextTag(1, true));
  const innerCurveOid = parameters ? readOid(readDocument(valueOf(parameters))) : undefined;
  const curveOid = outerCurveOid ?? innerCurveOid;
  if (!curveOid) throw new DerError("ECPrivateKey does not name its curve");
  const curve = supportedCurve(curveOid);
  const inner = sequence(
    integer(1n),
    octetString(checkedScalar(scalar, curveOid)),
    ...(publicKey ? [explicit(1, valueOf(publicKey))] : []),
  );
  const pkcs8 = sequence(integer(0n), sequence(oid(OID.ecPublicKey), oid(curveOid)), octetString(inner));
  return { pkcs8, type: "EC" as const, curve };
}

/**
 * The private scalar as exactly the curve's size in bytes, after checking 1 <= d < n. RFC 5915
 * fixes the length, but some writers drop leading zero bytes (OpenSSL reads those): pad them.
 */
function checkedScalar(scalar: Uint8Array, curveOid: string): Uint8Array {
  const { name, size, order } = CURVES[curveOid];
  let start = 0;
  while (start < scalar.length - size && scalar[start] === 0) start++;
  const digits = scalar.subarray(start);
  // KeyError, not DerError: well-formed DER out of a decryption means the passphrase was right.
  if (digits.length > size) {
    throw new KeyError("corrupt", `its ${name} private scalar is ${digits.length} bytes, not ${size}`);
  }
  const value = digits.length === 0 ? 0n : BigInt(`0x${digits.toHex()}`);
  if (value === 0n || value >= order) {
    throw new KeyError("corrupt", `its ${name} private scalar is not between 1 and the curve order`);
  }
  const padded = new Uint8Array(size);
  padded.set(digits, size - digits.length);
  return padded;
}

async function importMlDsa(parts: ReturnType<typeof readMlDsaPrivateKey>, encrypted: boolean): Promise<PrivateKey> {
  const imported = await importMlDsaKey(parts);
  parts.seed?.fill(0);
  // Well-formed DER of the exact sizes does not come out of a wrong passphrase: the key itself is bad.
  if (!imported.ok) throw new KeyError("corrupt", imported.detail);
  return {
    type: "ML-DSA",
    description: parts.parameterSet,
    algorithm: "AWS4-X509-MLDSA",
    signingKey: imported.signingKey,
    publicJwk: { kty: "AKP", alg: parts.parameterSet, pub: imported.publicKey.toBase64({ alphabet: "base64url" }) },
    parameterSet: parts.parameterSet,
    mlDsaForm: parts.form,
    encrypted,
  };
}

type Normalised =
  | { type: "RSA" | "EC"; pkcs8: Uint8Array<ArrayBuffer>; bits?: number; curve?: "P-256" | "P-384" }
  | { type: "ML-DSA"; parts: ReturnType<typeof readMlDsaPrivateKey> };

function fromPkcs8(der: Uint8Array): Normalised {
  const fields = sequenceOf(readDocument(der), "PrivateKeyInfo");
  const algorithm = sequenceOf(fields[1], "privateKeyAlgorithm");
  const algorithmOid = readOid(algorithm[0]);
  const inner = readOctetString(fields[2]);
  if (algorithmOid === OID.rsaEncryption) return fromPkcs1(Uint8Array.from(inner));
  const mlDsa = ML_DSA[algorithmOid];
  if (mlDsa) {
    if (algorithm.length !== 1) throw new DerError(`${mlDsa.name} privateKeyAlgorithm has parameters`);
    return { type: "ML-DSA", parts: readMlDsaPrivateKey(inner, mlDsa.name) };
  }
  if (algorithmOid === OID.ecPublicKey) {
    if (algorithm[1]?.tag !== TAG.OID) {
      throw new KeyError("unsupported-key", "EC keys with explicit curve parameters are not supported");
    }
    return fromSec1(inner, readOid(algorithm[1]));
  }
  const names: Record<string, string> = {
    [OID.ed25519]: "Ed25519",
    [OID.ed448]: "Ed448",
    [OID.x25519]: "X25519",
    [OID.dsa]: "DSA",
    [OID.rsassaPss]: "RSASSA-PSS",
  };
  const name = names[algorithmOid] ?? oidName(algorithmOid);
  throw new KeyError(
    "unsupported-key",
    `${name} keys are not supported: Roles Anywhere signs with RSA, EC P-256/P-384 or ML-DSA`,
  );
}
