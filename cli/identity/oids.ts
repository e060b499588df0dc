/** The ASN.1 object identifiers certrole reads and writes, by name. */

export const OID = {
  // public key algorithms
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsassaPss: "1.2.840.113549.1.1.10",
  ecPublicKey: "1.2.840.10045.2.1",
  ed25519: "1.3.101.112",
  ed448: "1.3.101.113",
  x25519: "1.3.101.110",
  dsa: "1.2.840.10040.4.1",
  // ML-DSA (FIPS 204, RFC 9881): one OID each names the key and the signature algorithm
  mlDsa44: "2.16.840.1.101.3.4.3.17",
  mlDsa65: "2.16.840.1.101.3.4.3.18",
  mlDsa87: "2.16.840.1.101.3.4.3.19",
  // named curves
  prime256v1: "1.2.840.10045.3.1.7",
  secp384r1: "1.3.132.0.34",
  secp521r1: "1.3.132.0.35",
  secp256k1: "1.3.132.0.10",
  // signature algorithms
  md5WithRSAEncryption: "1.2.840.113549.1.1.4",
  sha1WithRSAEncryption: "1.2.840.113549.1.1.5",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  sha384WithRSAEncryption: "1.2.840.113549.1.1.12",
  sha512WithRSAEncryption: "1.2.840.113549.1.1.13",
  sha224WithRSAEncryption: "1.2.840.113549.1.1.14",
  ecdsaWithSHA1: "1.2.840.10045.4.1",
  ecdsaWithSHA224: "1.2.840.10045.4.3.1",
  ecdsaWithSHA256: "1.2.840.10045.4.3.2",
  ecdsaWithSHA384: "1.2.840.10045.4.3.3",
  ecdsaWithSHA512: "1.2.840.10045.4.3.4",
  // digests
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
  mgf1: "1.2.840.113549.1.1.8",
  // password-based encryption (PKCS#5, PKCS#12)
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  scrypt: "1.3.6.1.4.1.11591.4.11",
  hmacWithSHA1: "1.2.840.113549.2.7",
  hmacWithSHA224: "1.2.840.113549.2.8",
  hmacWithSHA256: "1.2.840.113549.2.9",
  hmacWithSHA384: "1.2.840.113549.2.10",
  hmacWithSHA512: "1.2.840.113549.2.11",
  aes128Cbc: "2.16.840.1.101.3.4.1.2",
  aes192Cbc: "2.16.840.1.101.3.4.1.22",
  aes256Cbc: "2.16.840.1.101.3.4.1.42",
  desEde3Cbc: "1.2.840.113549.3.7",
  desCbc: "1.3.14.3.2.7",
  pbeWithSHAAnd3KeyTripleDESCBC: "1.2.840.113549.1.12.1.3",
  pbeWithSHAAnd2KeyTripleDESCBC: "1.2.840.113549.1.12.1.4",
  pbeWithMD5AndDESCBC: "1.2.840.113549.1.5.3",
  pbeWithSHA1AndDESCBC: "1.2.840.113549.1.5.10",
  // extensions
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

/** Short names of distinguished-name attributes, as Roles Anywhere maps them to session tags. */
export const NAME_ATTRIBUTES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.42": "GN",
  "2.5.4.46": "dnQualifier",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
  "1.2.840.113549.1.9.1": "emailAddress",
};

/**
 * Curve OIDs to WebCrypto curve names, their field size in bytes and their group order n (a
 * private scalar lies in 1..n-1; FIPS 186-5 / SEC 2).
 */
export const CURVES: Record<string, { name: "P-256" | "P-384" | "P-521"; size: number; order: bigint }> = {
  [OID.prime256v1]: {
    name: "P-256",
    size: 32,
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  [OID.secp384r1]: {
    name: "P-384",
    size: 48,
    order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  [OID.secp521r1]: {
    name: "P-521",
    size: 66,
    order:
      0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
};

export type MlDsaParameterSet = "ML-DSA-44" | "ML-DSA-65" | "ML-DSA-87";

/** ML-DSA parameter sets by OID, with their encoded sizes in bytes (FIPS 204 table 2). */
export const ML_DSA: Record<
  string,
  {
    readonly name: MlDsaParameterSet;
    readonly publicKeyLength: number;
    readonly expandedKeyLength: number;
    readonly signatureLength: number;
  }
> = {
  [OID.mlDsa44]: { name: "ML-DSA-44", publicKeyLength: 1312, expandedKeyLength: 2560, signatureLength: 2420 },
  [OID.mlDsa65]: { name: "ML-DSA-65", publicKeyLength: 1952, expandedKeyLength: 4032, signatureLength: 3309 },
  [OID.mlDsa87]: { name: "ML-DSA-87", publicKeyLength: 2592, expandedKeyLength: 4896, signatureLength: 4627 },
};

/** Readable names for OIDs that show up in error messages. */
export function oidName(oid: string): string {
  for (const [name, value] of Object.entries(OID)) if (value === oid) return name;
  return oid;
}
