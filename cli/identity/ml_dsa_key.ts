/**
 * ML-DSA private keys (FIPS 204) as PKCS#8 carries them (RFC 9881): the privateKey OCTET STRING
 * holds one of three forms, the 32-byte seed `[0]`, the expanded key (ρ, K, tr, s1, s2, t0), or
 * "both", a SEQUENCE of the two. Reading the forms is pure; importing puts a key with a seed
 * into WebCrypto (Deno signs pure ML-DSA with an empty context there) and leaves an
 * expanded-only key to ml_dsa_expanded.ts, loaded only then, since WebCrypto imports seeds only.
 *
 * @example
 * ```ts
 * const seedForm = Uint8Array.of(0x80, 32, ...crypto.getRandomValues(new Uint8Array(32))); // [0] IMPLICIT seed
 * const parts = readMlDsaPrivateKey(seedForm, "ML-DSA-65");
 * const imported = await importMlDsaKey(parts);
 * ```
 */
import {
  contextTag,
  DerError,
  integer,
  octetString,
  oid,
  readDocument,
  readOctetString,
  sequence,
  sequenceOf,
  TAG,
  tlv,
  valueOf,
} from "./der.ts";
import { ML_DSA, type MlDsaParameterSet } from "./oids.ts";
import { publicJwkOf } from "./public_key.ts";

export type MlDsaKeyForm = "seed" | "expanded" | "both";

/** What a PKCS#8 ML-DSA key holds, checked for shape and sizes. */
export interface MlDsaPrivateKeyParts {
  readonly parameterSet: MlDsaParameterSet;
  readonly form: MlDsaKeyForm;
  readonly seed?: Uint8Array<ArrayBuffer>;
  readonly expanded?: Uint8Array<ArrayBuffer>;
}

/** An ML-DSA key without its seed: WebCrypto cannot hold it, so its bytes stay in memory for signing. */
export interface ExpandedMlDsaKey {
  readonly kind: "ML-DSA expanded key";
  readonly parameterSet: MlDsaParameterSet;
  readonly expanded: Uint8Array<ArrayBuffer>;
}

const SEED_LENGTH = 32;

export function mlDsaOid(parameterSet: MlDsaParameterSet): string {
  return Object.entries(ML_DSA).find(([, info]) => info.name === parameterSet)![0];
}

function info(parameterSet: MlDsaParameterSet) {
  return ML_DSA[mlDsaOid(parameterSet)];
}

/** Parses the CHOICE inside PKCS#8's privateKey; throws DerError on any other shape or size. */
export function readMlDsaPrivateKey(inner: Uint8Array, parameterSet: MlDsaParameterSet): MlDsaPrivateKeyParts {
  const node = readDocument(inner);
  const expandedLength = info(parameterSet).expandedKeyLength;
  const checkSeed = (seed: Uint8Array) => {
    if (seed.length !== SEED_LENGTH) {
      throw new DerError(`${parameterSet} seed is ${seed.length} bytes, not ${SEED_LENGTH}`);
    }
    return Uint8Array.from(seed);
  };
  const checkExpanded = (expanded: Uint8Array) => {
    if (expanded.length !== expandedLength) {
      throw new DerError(`${parameterSet} expanded key is ${expanded.length} bytes, not ${expandedLength}`);
    }
    return Uint8Array.from(expanded);
  };
  if (node.tag === contextTag(0, false)) return { parameterSet, form: "seed", seed: checkSeed(valueOf(node)) };
  if (node.tag === TAG.OCTET_STRING) {
    return { parameterSet, form: "expanded", expanded: checkExpanded(readOctetString(node)) };
  }
  if (node.tag === TAG.SEQUENCE) {
    const fields = sequenceOf(node, `${parameterSet} seed and expanded key`);
    if (fields.length !== 2) throw new DerError(`${parameterSet} seed and expanded key has ${fields.length} fields`);
    return {
      parameterSet,
      form: "both",
      seed: checkSeed(readOctetString(fields[0])),
      expanded: checkExpanded(readOctetString(fields[1])),
    };
  }
  throw new DerError(`${parameterSet} private key is neither a seed, an expanded key nor both`);
}

/** PKCS#8 in the seed form, the one WebCrypto imports. */
function seedPkcs8(parameterSet: MlDsaParameterSet, seed: Uint8Array): Uint8Array<ArrayBuffer> {
  return sequence(integer(0n), sequence(oid(mlDsaOid(parameterSet))), octetString(tlv(contextTag(0, false), seed)));
}

/** PKCS#8 in the both form: WebCrypto expands the seed and refuses the key unless the two agree. */
function bothPkcs8(parameterSet: MlDsaParameterSet, seed: Uint8Array, expanded: Uint8Array): Uint8Array<ArrayBuffer> {
  return sequence(
    integer(0n),
    sequence(oid(mlDsaOid(parameterSet))),
    octetString(sequence(octetString(seed), octetString(expanded))),
  );
}

export type ImportedMlDsaKey =
  | {
    readonly ok: true;
    readonly signingKey: CryptoKey | ExpandedMlDsaKey;
    readonly publicKey: Uint8Array<ArrayBuffer>;
  }
  | { readonly ok: false; readonly problem: "disagree" | "invalid"; readonly detail: string };

/**
 * A signing key and its public key (raw ρ‖t1) from the parts. "disagree": the both form's
 * expanded key is not the one its seed derives (AWS's helper signs with the seed and never
 * looks); "invalid": an expanded key whose tr is not the hash of its own public key, or a key
 * WebCrypto refuses.
 */
export async function importMlDsaKey(parts: MlDsaPrivateKeyParts): Promise<ImportedMlDsaKey> {
  const { parameterSet } = parts;
  const algorithm = { name: parameterSet };
  if (parts.seed) {
    const seedOnly = seedPkcs8(parameterSet, parts.seed);
    const both = parts.expanded && bothPkcs8(parameterSet, parts.seed, parts.expanded);
    try {
      // Non-extractable throughout: the seed never leaves WebCrypto, not even as a JWK.
      const signingKey = await crypto.subtle.importKey("pkcs8", seedOnly, algorithm, false, ["sign"]);
      if (both) {
        // WebCrypto refuses a both-form key whose expanded half is not the one its seed derives.
        const agrees = await crypto.subtle.importKey("pkcs8", both, algorithm, false, ["sign"]).then(
          () => true,
          () => false,
        );
        if (!agrees) {
          return {
            ok: false,
            problem: "disagree",
            detail:
              `its ${parameterSet} seed and expanded key disagree (the expanded key is not the one the seed derives)`,
          };
        }
      }
      const publicKey = Uint8Array.fromBase64((await publicJwkOf(signingKey)).pub ?? "", { alphabet: "base64url" });
      return { ok: true, signingKey, publicKey };
    } catch (error) {
      return {
        ok: false,
        problem: "invalid",
        detail: `WebCrypto refuses the ${parameterSet} key: ${(error as Error).message}`,
      };
    } finally {
      seedOnly.fill(0);
      if (both) both.fill(0);
    }
  }
  const { expandedPublicKey } = await import("./ml_dsa_expanded.ts");
  const publicKey = expandedPublicKey(parameterSet, parts.expanded!);
  if (!publicKey) {
    return {
      ok: false,
      problem: "invalid",
      detail:
        `its ${parameterSet} expanded key is inconsistent (tr is not the hash of the public key its ρ, s1 and s2 give)`,
    };
  }
  return {
    ok: true,
    signingKey: { kind: "ML-DSA expanded key", parameterSet, expanded: parts.expanded! },
    publicKey,
  };
}

export function isExpandedMlDsaKey(key: CryptoKey | ExpandedMlDsaKey): key is ExpandedMlDsaKey {
  return (key as ExpandedMlDsaKey).kind === "ML-DSA expanded key";
}
