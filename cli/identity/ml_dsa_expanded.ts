/**
 * ML-DSA with an expanded-only private key, which WebCrypto cannot import: the public key
 * derived from it and deterministic pure ML-DSA signatures (empty context), as AWS's helper
 * signs (FIPS 204's deterministic variant). Built on @noble/post-quantum, a JavaScript
 * implementation: loaded only for such keys (about 12 ms), never on the RSA/EC path.
 */
import { shake256 } from "@noble/hashes/sha3.js";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import type { MlDsaParameterSet } from "./oids.ts";

const SCHEMES = { "ML-DSA-44": ml_dsa44, "ML-DSA-65": ml_dsa65, "ML-DSA-87": ml_dsa87 } as const;

/**
 * The public key (ρ‖t1) that the expanded key's ρ, s1 and s2 give, or undefined when the key's
 * own ρ or tr (the 64-byte SHAKE256 of the public key) says otherwise.
 */
export function expandedPublicKey(
  parameterSet: MlDsaParameterSet,
  expanded: Uint8Array,
): Uint8Array<ArrayBuffer> | undefined {
  let publicKey: Uint8Array;
  try {
    publicKey = SCHEMES[parameterSet].getPublicKey(expanded);
  } catch {
    return undefined; // coefficients out of range
  }
  const rho = expanded.subarray(0, 32);
  const tr = expanded.subarray(64, 128);
  const expectedTr = shake256(publicKey, { dkLen: 64 });
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);
  if (!same(rho, publicKey.subarray(0, 32)) || !same(tr, expectedTr)) return undefined;
  return Uint8Array.from(publicKey);
}

/** Pure ML-DSA, empty context, deterministic (no fresh randomness): the same bytes each time. */
export function signWithExpandedKey(
  parameterSet: MlDsaParameterSet,
  expanded: Uint8Array,
  message: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(SCHEMES[parameterSet].sign(message, expanded, { extraEntropy: false }));
}
