/**
 * The key types certrole generates, which are the ones IAM Roles Anywhere accepts: RSA 2048,
 * 3072 and 4096, EC P-256 and P-384, ML-DSA-44, -65 and -87 (FIPS 204). Kept apart from the certificate code so that flag parsing
 * and help never load @peculiar/x509.
 */
import { fail } from "../errors.ts";

export const KEY_TYPES = [
  "rsa-2048",
  "rsa-3072",
  "rsa-4096",
  "ec-p256",
  "ec-p384",
  "ml-dsa-44",
  "ml-dsa-65",
  "ml-dsa-87",
] as const;
export type KeyType = typeof KEY_TYPES[number];

// A Map, not an object: a value like "constructor" or "__proto__" must not find Object's own properties.
const ALIASES: ReadonlyMap<string, KeyType> = new Map(Object.entries(
  {
    rsa2048: "rsa-2048",
    rsa3072: "rsa-3072",
    rsa4096: "rsa-4096",
    ecp256: "ec-p256",
    p256: "ec-p256",
    prime256v1: "ec-p256",
    ecprime256v1: "ec-p256",
    ecp384: "ec-p384",
    p384: "ec-p384",
    secp384r1: "ec-p384",
    ecsecp384r1: "ec-p384",
    mldsa44: "ml-dsa-44",
    mldsa65: "ml-dsa-65",
    mldsa87: "ml-dsa-87",
  } satisfies Record<string, KeyType>,
));

/** Accepts the canonical names and the spellings people carry over from openssl ("rsa:2048", "P-256"). */
export function parseKeyType(text: string, setting = "--key-type"): KeyType {
  return ALIASES.get(text.toLowerCase().replace(/[^a-z0-9]/g, "")) ??
    fail(
      "InvalidSetting",
      `${setting} "${text}" is not a key type Roles Anywhere accepts: use ${KEY_TYPES.join(", ")}`,
    );
}

/** "RSA-2048", "EC P-256", "ML-DSA-65": how the rest of certrole describes keys. */
export function describeKeyType(type: KeyType): string {
  if (type.startsWith("ml-dsa")) return type.toUpperCase();
  return type.startsWith("rsa") ? `RSA-${type.slice(4)}` : `EC P-${type.slice(4)}`;
}
