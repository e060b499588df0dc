/**
 * Passphrase protection of private keys, in the formats OpenSSL and AWS Certificate Manager
 * write: PKCS#8 EncryptedPrivateKeyInfo (PBES2 with PBKDF2 or scrypt, PBES1 SHA1-3DES) and
 * legacy `Proc-Type: 4,ENCRYPTED` PEM. Decryption happens in memory only.
 *
 * @example
 * ```ts
 * const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
 * const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
 * const encrypted = await encryptPkcs8(pkcs8, "secret");
 * const plain = await decryptPkcs8(encrypted, "secret"); // equal to pkcs8
 * ```
 */
import {
  cbcDecrypt,
  cbcEncrypt,
  type CipherName,
  CIPHERS,
  evpBytesToKey,
  pbkdf2,
  pkcs12Kdf,
  type PrfHash,
  scrypt,
} from "./ciphers.ts";
import {
  DerError,
  type DerNode,
  expectTag,
  integer,
  nullValue,
  octetString,
  oid,
  readDocument,
  readInteger,
  readOctetString,
  readOid,
  sequence,
  sequenceOf,
  TAG,
} from "./der.ts";
import { OID, oidName } from "./oids.ts";
import { quoted } from "../errors.ts";

/** A cipher or KDF certrole cannot decrypt; names the algorithm. */
export class UnsupportedEncryptionError extends Error {
  constructor(readonly algorithm: string) {
    super(`unsupported key encryption ${algorithm}`);
    this.name = "UnsupportedEncryptionError";
  }
}

/**
 * What opening a key file may cost, so a hostile or mistaken file cannot hold certrole for hours
 * or take gigabytes. OpenSSL writes 2048 PBKDF2 or PBES1 iterations and scrypt N=16384 r=8 p=1
 * (16 MiB) by default, and refuses scrypt above 32 MiB; certrole writes 100,000 iterations.
 * PBES1's SHA-1 rounds run in JavaScript, hence its lower ceiling.
 */
export const KEY_DERIVATION_LIMITS = {
  pbkdf2Iterations: 10_000_000,
  pbes1Iterations: 1_000_000,
  /** 128·N·r·p bytes: scrypt's memory for p = 1, and its work for any p. */
  scryptBytes: 256 * 1024 * 1024,
} as const;

/** A key whose derivation parameters exceed KEY_DERIVATION_LIMITS; the message names the parameter and the limit. */
export class KeyDerivationLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyDerivationLimitError";
  }
}

/** A positive INTEGER no larger than `limit`: 0 or less is malformed, more is over the limit. */
function readCount(node: DerNode | undefined, what: string, limit: number): number {
  const integerNode = expectTag(node, TAG.INTEGER, what);
  const length = integerNode.end - integerNode.valueStart;
  // Past 16 bytes, say how long rather than spell out (and convert) a number of any size.
  if (length > 16 && !(integerNode.bytes[integerNode.valueStart] & 0x80)) {
    throw new KeyDerivationLimitError(`${what} (a ${length}-byte number) is above certrole's limit of ${limit}`);
  }
  const value = readInteger(integerNode);
  if (value < 1n) throw new DerError(`${what} is ${length > 16 ? "negative" : value}, not a positive number`);
  if (value > BigInt(limit)) {
    throw new KeyDerivationLimitError(`${what} ${value} is above certrole's limit of ${limit}`);
  }
  return Number(value);
}

/** RFC 7914's constraints, then certrole's cost limit, before node:crypto allocates anything. */
function readScryptParameters(fields: DerNode[]): { cost: number; blockSize: number; parallelization: number } {
  // Each factor on its own may be as large as the whole budget; their product is checked below.
  const budget = KEY_DERIVATION_LIMITS.scryptBytes / 128;
  const cost = readCount(fields[1], "scrypt cost N", budget);
  const blockSize = readCount(fields[2], "scrypt block size r", budget);
  const parallelization = readCount(fields[3], "scrypt parallelization p", budget);
  if (cost < 2 || (cost & (cost - 1)) !== 0) throw new DerError(`scrypt cost N ${cost} is not a power of 2 above 1`);
  if (16 * blockSize < 31 && cost >= 2 ** (16 * blockSize)) {
    throw new DerError(`scrypt cost N ${cost} is not below 2^(16·r) for block size r ${blockSize}`);
  }
  const bytes = 128 * cost * blockSize * parallelization;
  if (bytes > KEY_DERIVATION_LIMITS.scryptBytes) {
    const mib = (n: number) => `${Math.ceil(n / 1024 / 1024)} MiB`;
    throw new KeyDerivationLimitError(
      `scrypt N=${cost} r=${blockSize} p=${parallelization} needs ${
        mib(bytes)
      } (128·N·r·p bytes), above certrole's limit of ${mib(KEY_DERIVATION_LIMITS.scryptBytes)}`,
    );
  }
  return { cost, blockSize, parallelization };
}

/**
 * The optional keyLength of PBKDF2-params and scrypt-params (RFC 8018 A.2, RFC 7914 7.1): when
 * present it must be the cipher's key length, as OpenSSL requires; anything else (0, 16 for
 * AES-256, a huge number) is a malformed file, never a reason to derive a key of that length.
 */
function checkKeyLength(node: DerNode | undefined, kdf: string, cipher: CipherName): void {
  if (node === undefined || node.tag !== TAG.INTEGER) return;
  const expected = CIPHERS[cipher].keyLength;
  const length = node.end - node.valueStart;
  const value = length > 8 ? undefined : readInteger(node);
  if (value === BigInt(expected)) return;
  throw new DerError(
    `${kdf} key length ${value ?? `(a ${length}-byte number)`} does not match ${cipher}'s ${expected}-byte key`,
  );
}

/** An IV of the cipher's block size; any other length is a malformed file, not a wrong passphrase. */
function readIv(node: DerNode | undefined, cipher: CipherName): Uint8Array {
  const iv = readOctetString(expectTag(node, TAG.OCTET_STRING, "IV"));
  if (iv.length !== CIPHERS[cipher].ivLength) {
    throw new DerError(`the ${cipher} IV is ${iv.length} bytes, not ${CIPHERS[cipher].ivLength}`);
  }
  return iv;
}

const CIPHER_BY_OID: Record<string, CipherName> = {
  [OID.aes128Cbc]: "aes-128-cbc",
  [OID.aes192Cbc]: "aes-192-cbc",
  [OID.aes256Cbc]: "aes-256-cbc",
  [OID.desEde3Cbc]: "des-ede3-cbc",
};

const PRF_BY_OID: Record<string, PrfHash> = {
  [OID.hmacWithSHA1]: "SHA-1",
  [OID.hmacWithSHA224]: "SHA-224",
  [OID.hmacWithSHA256]: "SHA-256",
  [OID.hmacWithSHA384]: "SHA-384",
  [OID.hmacWithSHA512]: "SHA-512",
};

const utf8 = (text: string) => new TextEncoder().encode(text);

/** True when the DER is an EncryptedPrivateKeyInfo rather than a plain key. */
export function isEncryptedPkcs8(der: Uint8Array): boolean {
  try {
    const fields = sequenceOf(readDocument(der), "EncryptedPrivateKeyInfo");
    return fields.length === 2 && fields[0].tag === TAG.SEQUENCE && fields[1].tag === TAG.OCTET_STRING;
  } catch {
    return false;
  }
}

/**
 * Decrypts an EncryptedPrivateKeyInfo to the PKCS#8 PrivateKeyInfo bytes.
 * Throws DecryptError for a wrong passphrase, UnsupportedEncryptionError, KeyDerivationLimitError,
 * or DerError.
 */
export async function decryptPkcs8(der: Uint8Array, passphrase: string): Promise<Uint8Array<ArrayBuffer>> {
  const [algorithmNode, dataNode] = sequenceOf(readDocument(der), "EncryptedPrivateKeyInfo");
  const [schemeNode, parametersNode] = sequenceOf(algorithmNode, "encryptionAlgorithm");
  const scheme = readOid(schemeNode);
  const data = readOctetString(dataNode);
  if (scheme === OID.pbeWithSHAAnd3KeyTripleDESCBC) {
    const [saltNode, iterationsNode] = sequenceOf(parametersNode, "PBEParameter");
    const salt = readOctetString(saltNode);
    const iterations = readCount(iterationsNode, "PBES1 iteration count", KEY_DERIVATION_LIMITS.pbes1Iterations);
    const key = await pkcs12Kdf(passphrase, salt, iterations, 1, 24);
    const iv = await pkcs12Kdf(passphrase, salt, iterations, 2, 8);
    return cbcDecrypt("des-ede3-cbc", key, iv, data);
  }
  if (scheme !== OID.pbes2) throw new UnsupportedEncryptionError(oidName(scheme));
  const [kdfNode, encryptionNode] = sequenceOf(parametersNode, "PBES2-params");
  const [cipherOidNode, ivNode] = sequenceOf(encryptionNode, "encryptionScheme");
  const cipherOid = readOid(cipherOidNode);
  const cipher = CIPHER_BY_OID[cipherOid];
  if (!cipher) throw new UnsupportedEncryptionError(oidName(cipherOid));
  const iv = readIv(ivNode, cipher);
  const keyLength = CIPHERS[cipher].keyLength;
  const [kdfOidNode, kdfParametersNode] = sequenceOf(kdfNode, "keyDerivationFunc");
  const kdf = readOid(kdfOidNode);
  const kdfFields = sequenceOf(kdfParametersNode, "KDF parameters");
  let key: Uint8Array;
  if (kdf === OID.pbkdf2) {
    const salt = readOctetString(kdfFields[0]);
    const iterations = readCount(kdfFields[1], "PBKDF2 iteration count", KEY_DERIVATION_LIMITS.pbkdf2Iterations);
    checkKeyLength(kdfFields[2], "PBKDF2", cipher);
    // keyLength (INTEGER) and prf (SEQUENCE) are both optional; an absent prf means HMAC-SHA1.
    const prfNode = kdfFields.slice(2).find((field) => field.tag === TAG.SEQUENCE);
    const prfOid = prfNode ? readOid(sequenceOf(prfNode, "prf")[0]) : OID.hmacWithSHA1;
    const prf = PRF_BY_OID[prfOid];
    if (!prf) throw new UnsupportedEncryptionError(oidName(prfOid));
    key = await pbkdf2(utf8(passphrase), salt, iterations, prf, keyLength);
  } else if (kdf === OID.scrypt) {
    const salt = readOctetString(kdfFields[0]);
    const parameters = readScryptParameters(kdfFields);
    checkKeyLength(kdfFields[4], "scrypt", cipher);
    key = await scrypt(utf8(passphrase), salt, parameters, keyLength);
  } else {
    throw new UnsupportedEncryptionError(oidName(kdf));
  }
  return cbcDecrypt(cipher, key, iv, data);
}

/**
 * PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, what `openssl pkcs8 -topk8 -v2 aes-256-cbc`
 * writes; or with DES-EDE3-CBC, what `openssl req -newkey … -keyout` writes.
 */
export async function encryptPkcs8(
  pkcs8: Uint8Array,
  passphrase: string,
  options: {
    iterations?: number;
    salt?: Uint8Array;
    iv?: Uint8Array;
    cipher?: "aes-256-cbc" | "des-ede3-cbc";
  } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const cipher = options.cipher ?? "aes-256-cbc";
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(16));
  const iv = options.iv ?? crypto.getRandomValues(new Uint8Array(CIPHERS[cipher].ivLength));
  const key = await pbkdf2(utf8(passphrase), salt, iterations, "SHA-256", CIPHERS[cipher].keyLength);
  const data = await cbcEncrypt(cipher, key, iv, pkcs8);
  return sequence(
    sequence(
      oid(OID.pbes2),
      sequence(
        sequence(
          oid(OID.pbkdf2),
          sequence(octetString(salt), integer(BigInt(iterations)), sequence(oid(OID.hmacWithSHA256), nullValue())),
        ),
        sequence(oid(cipher === "aes-256-cbc" ? OID.aes256Cbc : OID.desEde3Cbc), octetString(iv)),
      ),
    ),
    octetString(data),
  );
}

/**
 * PBKDF2 rounds for keys certrole writes. Higher than OpenSSL's 2048 to slow down guessing;
 * the cost is paid once per CreateSession, never on a credential-cache hit.
 */
export const DEFAULT_PBKDF2_ITERATIONS = 100_000;

const LEGACY_CIPHERS: Record<string, CipherName> = {
  "AES-128-CBC": "aes-128-cbc",
  "AES-192-CBC": "aes-192-cbc",
  "AES-256-CBC": "aes-256-cbc",
  "DES-EDE3-CBC": "des-ede3-cbc",
};

/** Decrypts the body of a `Proc-Type: 4,ENCRYPTED` PEM block given its DEK-Info header. */
export async function decryptLegacyPem(
  dekInfo: string,
  body: Uint8Array,
  passphrase: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const [name, ivHex] = dekInfo.split(",").map((part) => part.trim());
  const cipher = LEGACY_CIPHERS[name?.toUpperCase()];
  if (!cipher) throw new UnsupportedEncryptionError(name ? quoted(name) : "(no DEK-Info)");
  if (!ivHex || !/^[0-9A-Fa-f]+$/.test(ivHex) || ivHex.length !== CIPHERS[cipher].ivLength * 2) {
    throw new UnsupportedEncryptionError(`${cipher} with a malformed IV`);
  }
  const iv = Uint8Array.fromHex(ivHex);
  const key = await evpBytesToKey(utf8(passphrase), iv.subarray(0, 8), CIPHERS[cipher].keyLength);
  return cbcDecrypt(cipher, key, iv, body);
}
