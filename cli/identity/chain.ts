/**
 * Certificate signatures and chains: does a CA's key verify a certificate's signature, and does
 * an end-entity certificate chain through intermediates to one of a set of trust anchors.
 * Used by the emulator's CreateSession and by `certrole pki check`.
 */
import { type Certificate, validityAt } from "./certificate.ts";
import { childrenOf, contextTag, ecdsaDerToRaw, readDocument, readOid, readSmallInteger, sequenceOf } from "./der.ts";
import { CURVES, ML_DSA, OID } from "./oids.ts";

type Hash = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

const RSA_PKCS1: Record<string, Hash> = {
  [OID.sha1WithRSAEncryption]: "SHA-1",
  [OID.sha256WithRSAEncryption]: "SHA-256",
  [OID.sha384WithRSAEncryption]: "SHA-384",
  [OID.sha512WithRSAEncryption]: "SHA-512",
};

const ECDSA: Record<string, Hash> = {
  [OID.ecdsaWithSHA1]: "SHA-1",
  [OID.ecdsaWithSHA256]: "SHA-256",
  [OID.ecdsaWithSHA384]: "SHA-384",
  [OID.ecdsaWithSHA512]: "SHA-512",
};

const DIGESTS: Record<string, Hash> = {
  [OID.sha1]: "SHA-1",
  [OID.sha256]: "SHA-256",
  [OID.sha384]: "SHA-384",
  [OID.sha512]: "SHA-512",
};

/** The digest a certificate's signature algorithm uses, or undefined (MD5, unknown). */
export function signatureHash(certificate: Certificate): Hash | undefined {
  const { oid, parameters } = certificate.signatureAlgorithm;
  if (RSA_PKCS1[oid]) return RSA_PKCS1[oid];
  if (ECDSA[oid]) return ECDSA[oid];
  if (oid === OID.rsassaPss) return pssParameters(parameters).hash;
  return undefined;
}

/** RSASSA-PSS-params: the hash and salt length, RFC 4055's defaults (SHA-1, 20) when absent. */
export function pssParameters(parameters: Uint8Array | undefined): { hash: Hash; saltLength: number } {
  let hash: Hash = "SHA-1";
  let saltLength = 20;
  if (!parameters) return { hash, saltLength };
  for (const field of sequenceOf(readDocument(parameters), "RSASSA-PSS-params")) {
    if (field.tag === contextTag(0, true)) {
      hash = DIGESTS[readOid(sequenceOf(childrenOf(field)[0], "hashAlgorithm")[0])] ?? hash;
    } else if (field.tag === contextTag(2, true)) {
      saltLength = readSmallInteger(childrenOf(field)[0], "saltLength");
    }
  }
  return { hash, saltLength };
}

/**
 * The signature scheme by name when certrole can verify it: "ML-DSA-65" for pure ML-DSA (no
 * digest, RFC 9881), else the digest ("SHA-256") of an RSA or ECDSA signature; undefined for MD5
 * and unknown algorithms.
 */
export function verifiableScheme(certificate: Certificate): string | undefined {
  return ML_DSA[certificate.signatureAlgorithm.oid]?.name ?? signatureHash(certificate);
}

/** True when `issuer`'s public key verifies `certificate`'s signature. */
export async function isSignedBy(certificate: Certificate, issuer: Certificate): Promise<boolean> {
  const { oid, parameters } = certificate.signatureAlgorithm;
  const key = issuer.publicKey;
  try {
    if (key.type === "RSA" && (RSA_PKCS1[oid] || oid === OID.rsassaPss)) {
      if (oid === OID.rsassaPss) {
        const { hash, saltLength } = pssParameters(parameters);
        const publicKey = await crypto.subtle.importKey("spki", key.spki, { name: "RSA-PSS", hash }, false, ["verify"]);
        return await crypto.subtle.verify(
          { name: "RSA-PSS", saltLength },
          publicKey,
          certificate.signature,
          certificate.tbs,
        );
      }
      const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: RSA_PKCS1[oid] };
      const publicKey = await crypto.subtle.importKey("spki", key.spki, algorithm, false, ["verify"]);
      return await crypto.subtle.verify(algorithm, publicKey, certificate.signature, certificate.tbs);
    }
    if (key.type === "ML-DSA" && ML_DSA[oid]?.name === key.parameterSet && !parameters) {
      const algorithm = { name: key.parameterSet };
      const publicKey = await crypto.subtle.importKey("spki", key.spki, algorithm, false, ["verify"]);
      return await crypto.subtle.verify(algorithm, publicKey, certificate.signature, certificate.tbs);
    }
    if (key.type === "EC" && key.curve && ECDSA[oid]) {
      const publicKey = await crypto.subtle.importKey(
        "spki",
        key.spki,
        { name: "ECDSA", namedCurve: key.curve },
        false,
        ["verify"],
      );
      const raw = ecdsaDerToRaw(certificate.signature, CURVES[key.curveOid].size);
      return await crypto.subtle.verify({ name: "ECDSA", hash: ECDSA[oid] }, publicKey, raw, certificate.tbs);
    }
    return false;
  } catch {
    // Only DER reading and WebCrypto run above. Whatever they throw (DerError, DOMException,
    // TypeError, or the plain Error Deno gives for key data it cannot import, such as an RSA
    // modulus of 0), this key does not verify this certificate.
    return false;
  }
}

function sameName(a: Certificate["subject"], b: Certificate["subject"]): boolean {
  if (a.der.length === b.der.length && a.der.every((byte, index) => byte === b.der[index])) return true;
  return a.text.toLowerCase() === b.text.toLowerCase(); // tolerate PrintableString vs UTF8String re-encodings
}

/** Issuer and subject are the same name (a root, or a CA re-keyed under its own name): RFC 5280 "self-issued". */
export function isSelfIssued(certificate: Certificate): boolean {
  return sameName(certificate.issuer, certificate.subject);
}

/** Issued by itself and verified with its own key: a root CA (or a self-signed leaf). */
export async function isSelfSigned(certificate: Certificate): Promise<boolean> {
  return isSelfIssued(certificate) && await isSignedBy(certificate, certificate);
}

/**
 * The first of `candidates`, other than those in `used`, that issued `certificate`: its subject is
 * the certificate's issuer and its key verifies the certificate's signature.
 */
export async function findIssuer(
  certificate: Certificate,
  candidates: readonly Certificate[],
  used: readonly Certificate[],
): Promise<Certificate | undefined> {
  for (const candidate of candidates) {
    if (used.includes(candidate) || !sameName(certificate.issuer, candidate.subject)) continue;
    if (await isSignedBy(certificate, candidate)) return candidate;
  }
  return undefined;
}

export type ChainResult =
  | { readonly ok: true; readonly path: readonly Certificate[]; readonly anchor: Certificate }
  | { readonly ok: false; readonly reason: string };

/**
 * Finds a path leaf → intermediates → anchor where every signature verifies and every
 * certificate above the leaf is a CA valid at `now`. With `checkValidity: false` only names,
 * signatures and CA flags count (`pki check` reports validity windows on lines of their own).
 */
export async function verifyChain(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  anchors: readonly Certificate[],
  now: Date,
  options: { readonly checkValidity?: boolean } = {},
): Promise<ChainResult> {
  const checkValidity = options.checkValidity ?? true;
  const path: Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    for (const anchor of anchors) {
      if (sameName(current.issuer, anchor.subject) && await isSignedBy(current, anchor)) {
        if (checkValidity && validityAt(anchor, now) !== "valid") {
          return { ok: false, reason: `trust anchor "${anchor.subject.text}" is not valid now` };
        }
        return { ok: true, path, anchor };
      }
    }
    const next = await findIssuer(current, intermediates, path);
    if (!next) {
      return { ok: false, reason: `no trusted issuer "${current.issuer.text}" for "${current.subject.text}"` };
    }
    if (!next.basicConstraints?.ca) return { ok: false, reason: `intermediate "${next.subject.text}" is not a CA` };
    if (checkValidity && validityAt(next, now) !== "valid") {
      return { ok: false, reason: `intermediate "${next.subject.text}" is not valid now` };
    }
    path.push(next);
    current = next;
  }
  return { ok: false, reason: "certificate chain is too long" };
}
