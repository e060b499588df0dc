/**
 * The public half of a loaded private key, taken from the non-extractable WebCrypto key itself
 * (SubtleCrypto.getPublicKey, from the WICG "modern algorithms" draft that Deno implements), so
 * the private key is never exported to read it: no JWK of the private key ever exists in memory.
 *
 * @example
 * ```ts
 * const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
 * const jwk = await publicJwkOf(pair.privateKey); // { kty: "EC", crv: "P-256", x, y, ... }
 * ```
 */

/** Deno's lib types do not declare it yet. */
type WithGetPublicKey = SubtleCrypto & {
  getPublicKey(key: CryptoKey, usages: KeyUsage[]): Promise<CryptoKey>;
};

/** The public key, as a WebCrypto key that verifies. */
export async function publicKeyOf(privateKey: CryptoKey): Promise<CryptoKey> {
  return await (crypto.subtle as WithGetPublicKey).getPublicKey(privateKey, ["verify"]);
}

/** The public key as a JWK (ML-DSA: kty "AKP" with the raw key in "pub"). */
export async function publicJwkOf(privateKey: CryptoKey): Promise<JsonWebKey & { pub?: string }> {
  return await crypto.subtle.exportKey("jwk", await publicKeyOf(privateKey));
}
