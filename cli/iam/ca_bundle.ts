/**
 * Whether a trust anchor's CA bundle holds exactly the CA certificates of `--ca`: compared by
 * their DER bytes, so line length, CRLF, text around the PEM blocks and their order do not
 * matter, and a bundle with an extra CA (which would let more certificates in) is not the same.
 * Pure.
 *
 * @example
 * ```ts
 * const pem = await Deno.readTextFile("ca-cert.pem");
 * sameCertificates(pem, pem.replaceAll("\n", "\r\n")); // true: the same certificates, however written
 * ```
 */
import { parsePem } from "../identity/pem.ts";

/** The base64 DER of each certificate in a PEM bundle; undefined when it holds none or is malformed. */
function certificates(pem: string): Set<string> | undefined {
  let blocks;
  try {
    blocks = parsePem(pem);
  } catch {
    return undefined;
  }
  const ders = blocks.filter((block) => block.label === "CERTIFICATE").map((block) => block.bytes.toBase64());
  return ders.length ? new Set(ders) : undefined;
}

export function sameCertificates(a: string | undefined, b: string | undefined): boolean {
  const first = a === undefined ? undefined : certificates(a);
  const second = b === undefined ? undefined : certificates(b);
  if (!first || !second || first.size !== second.size) return false;
  return [...first].every((der) => second.has(der));
}
