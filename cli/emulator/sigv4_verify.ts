/**
 * Checks request signatures the way AWS does, rebuilding canonical requests with the AWS SDK's
 * own SigV4 implementation (@smithy/signature-v4) rather than certrole's signer, so the
 * emulator is an independent check of what clients send: HMAC SigV4 for access keys, and
 * SigV4-X509 for CreateSession. The payload hash is the emulator's own (sigv4_rules.ts): the
 * SDK's signer would take it from the x-amz-content-sha256 header, which binds nothing.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { getCanonicalHeaders, SignatureV4 } from "@smithy/signature-v4";
import { payloadHash } from "./sigv4_rules.ts";

export interface ParsedAuthorization {
  readonly algorithm: string;
  /** Access key id, or the certificate serial for SigV4-X509. */
  readonly credential: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Parses `ALG Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseAuthorization(header: string | null): ParsedAuthorization | undefined {
  const match = header?.match(
    /^(AWS4-[A-Z0-9-]+)\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]+)$/,
  );
  if (!match) return undefined;
  const [, algorithm, credential, date, region, service, signedHeaders, signature] = match;
  return { algorithm, credential, date, region, service, signedHeaders: signedHeaders.split(";"), signature };
}

/** A received request as the signer sees it. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

function signerInput(request: ReceivedRequest, signedHeaders: readonly string[]) {
  // No prototype: a parameter or header named "constructor" or "__proto__" is an ordinary key.
  const query: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of request.url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const headers: Record<string, string> = Object.create(null);
  for (const name of signedHeaders) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return {
    method: request.method,
    protocol: request.url.protocol,
    hostname: request.url.hostname,
    // As sent on the wire: S3 signs it as is, other services escape it once more.
    path: request.url.pathname,
    query,
    headers,
    body: request.body,
  };
}

/** 20240102T030405Z → Date */
export function parseAmzDate(text: string | null): Date | undefined {
  const match = text?.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** Opens the SDK signer's canonicalisation steps, which SigV4-X509 shares with SigV4. */
class CanonicalSigner extends SignatureV4 {
  canonicalRequest(...args: Parameters<SignatureV4["createCanonicalRequest"]>): string {
    return this.createCanonicalRequest(...args);
  }
  stringToSign(...args: Parameters<SignatureV4["createStringToSign"]>): Promise<string> {
    return this.createStringToSign(...args);
  }
}

/**
 * The string to sign for a received request, from its signed headers as received (values
 * included, x-amz-content-sha256 too) and the payload hash AWS would compute.
 */
async function receivedStringToSign(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  signer: CanonicalSigner,
): Promise<string> {
  const input = signerInput(request, auth.signedHeaders);
  const canonicalHeaders = getCanonicalHeaders(input, undefined, new Set(auth.signedHeaders));
  const canonical = signer.canonicalRequest(input, canonicalHeaders, await payloadHash(request, auth.service));
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return await signer.stringToSign(request.headers.get("x-amz-date") ?? "", scope, canonical, auth.algorithm);
}

/** The SigV4-X509 string to sign for a received CreateSession request. */
export function x509StringToSign(request: ReceivedRequest, auth: ParsedAuthorization): Promise<string> {
  const signer = new CanonicalSigner({
    service: auth.service,
    region: auth.region,
    credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
    sha256: Sha256,
    applyChecksum: false,
  });
  return receivedStringToSign(request, auth, signer);
}

/**
 * Recomputes an HMAC SigV4 signature with the secret of the access key, over the scope the
 * request names (its date, region and service). `signingDate` is X-Amz-Date.
 */
export async function expectedHmacSignature(
  request: ReceivedRequest,
  auth: ParsedAuthorization,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  signingDate: Date,
): Promise<string> {
  const signer = new CanonicalSigner({
    service: auth.service,
    region: auth.region,
    credentials,
    sha256: Sha256,
    applyChecksum: false,
    // S3 signs the path as sent; every other service escapes it once more.
    uriEscapePath: auth.service !== "s3",
  });
  const stringToSign = await receivedStringToSign(request, auth, signer);
  return await signer.sign(stringToSign, { signingDate, signingRegion: auth.region, signingService: auth.service });
}

/** Compares hex signatures in time independent of where they differ. */
export function sameSignature(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
