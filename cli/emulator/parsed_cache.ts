/**
 * What the emulator parses again and again, parsed once: policy documents and trust anchor
 * bundles keyed by their text, client certificates keyed by their X-Amz-X509 header, and the
 * WebCrypto keys imported from them. Keys are the full input text, so an entry can never be
 * stale; each cache is bounded (oldest entry out first) so a flood of distinct inputs cannot
 * grow memory without limit.
 */
import { type Certificate, parseCertificate } from "../identity/certificate.ts";
import { parsePem } from "../identity/pem.ts";
import { parsePolicy, type Policy } from "./policy/document.ts";

const LIMIT = 1000;

function bounded<V>(compute: (key: string) => V): (key: string) => V {
  const entries = new Map<string, V>();
  return (key) => {
    const hit = entries.get(key);
    if (hit !== undefined) return hit;
    const value = compute(key);
    if (entries.size >= LIMIT) entries.delete(entries.keys().next().value!);
    entries.set(key, value);
    return value;
  };
}

/** parsePolicy, memoised on the document's text (throws like parsePolicy, and is not cached then). */
export const policyFromText: (text: string) => Policy = bounded(parsePolicy);

/** The CERTIFICATE blocks of a trust anchor's PEM bundle, parsed. */
export const anchorCertificates: (pem: string) => Certificate[] = bounded((pem) =>
  parsePem(pem).filter((block) => block.label === "CERTIFICATE").map((block) => parseCertificate(block.bytes))
);

/** A certificate from base64 DER (the X-Amz-X509 header). */
export const certificateFromBase64: (base64: string) => Certificate = bounded((base64) =>
  parseCertificate(Uint8Array.fromBase64(base64.trim()))
);

/** A public key imported for verifying, by its SPKI and algorithm (the promise is cached). */
export const verificationKey: (spkiBase64AndAlgorithm: string) => Promise<CryptoKey> = bounded((key) => {
  const [spki, name, parameter] = key.split("|");
  const algorithm = name === "ECDSA" ? { name, namedCurve: parameter } : parameter === undefined
    ? { name } // ML-DSA-44/65/87: the name is the whole algorithm
    : { name, hash: parameter };
  const imported = crypto.subtle.importKey("spki", Uint8Array.fromBase64(spki), algorithm, false, ["verify"]);
  return imported;
});
