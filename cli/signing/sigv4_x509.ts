/**
 * SigV4-X509: how a CreateSession call is signed with a certificate's private key, as IAM Roles
 * Anywhere and AWS's signing helper do it. SigV4's canonical request and string to sign, with
 * the certificate (X-Amz-X509) in place of an access key, the certificate's decimal serial in
 * the Credential field, and an RSA PKCS#1 v1.5 or DER-encoded ECDSA signature over SHA-256, or
 * (AWS4-X509-MLDSA) a pure ML-DSA signature over the string to sign itself, empty context.
 *
 * Everything but the final signature is pure; the date is an input.
 *
 * @example
 * ```ts
 * import { parseCertificate } from "../identity/certificate.ts";
 * import { parsePrivateKey } from "../identity/private_key.ts";
 *
 * const certificate = parseCertificate(await Deno.readFile("cert.der"));
 * const key = await parsePrivateKey(await Deno.readFile("key.pem"));
 * const request = createSessionRequest({
 *   endpoint: "https://rolesanywhere.us-east-1.amazonaws.com",
 *   region: "us-east-1",
 *   trustAnchorArn: "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/ta",
 *   profileArn: "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p",
 *   roleArn: "arn:aws:iam::123456789012:role/bucket-lister",
 *   durationSeconds: 3600,
 *   certificate,
 *   intermediates: [],
 *   algorithm: key.algorithm,
 * }, new Date());
 * const signed = await signRequest(request, key.signingKey);
 * ```
 */
import { ecdsaRawToDer } from "../identity/der.ts";
import { isExpandedMlDsaKey } from "../identity/ml_dsa_key.ts";
import type { SigningAlgorithm, SigningKey } from "../identity/private_key.ts";

export const SERVICE = "rolesanywhere";

/** RFC 3986 unreserved characters stay; everything else is %XX with upper-case hex, as SigV4 wants. */
export function awsPercentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** 20240102T030405Z */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

export function credentialScope(date: Date, region: string, service = SERVICE): string {
  return `${amzDate(date).slice(0, 8)}/${region}/${service}/aws4_request`;
}

export interface CanonicalParts {
  readonly method: string;
  readonly path: string;
  /** Decoded query parameters; encoded and sorted here. */
  readonly query: readonly (readonly [string, string])[];
  /** Lower-case names to values. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
}

export function canonicalQuery(query: readonly (readonly [string, string])[]): string {
  return query
    .map(([key, value]) => [awsPercentEncode(key), awsPercentEncode(value)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

export function canonicalRequest(parts: CanonicalParts): string {
  const headers = [...parts.signedHeaders].sort();
  const headerLines = headers.map((name) => `${name}:${(parts.headers[name] ?? "").trim().replace(/ +/g, " ")}\n`);
  return [
    parts.method,
    parts.path,
    canonicalQuery(parts.query),
    headerLines.join(""),
    headers.join(";"),
    parts.payloadHash,
  ].join("\n");
}

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : Uint8Array.from(data);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).toHex();
}

export function stringToSign(algorithm: string, date: Date, scope: string, canonicalRequestHash: string): string {
  return [algorithm, amzDate(date), scope, canonicalRequestHash].join("\n");
}

export interface CreateSessionInput {
  /** Base URL, e.g. https://rolesanywhere.us-east-1.amazonaws.com */
  readonly endpoint: string;
  readonly region: string;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly durationSeconds: number;
  readonly roleSessionName?: string;
  readonly certificate: { readonly der: Uint8Array; readonly serialDecimal: string };
  readonly intermediates: readonly { readonly der: Uint8Array }[];
  readonly algorithm: SigningAlgorithm;
}

/** A request ready to sign: what goes on the wire, plus the parts the signature covers. */
export interface UnsignedRequest {
  readonly url: URL;
  readonly method: "POST";
  /** Header names in wire case; all of them are signed. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly date: Date;
  readonly region: string;
  readonly algorithm: SigningAlgorithm;
  readonly serialDecimal: string;
  readonly query: readonly (readonly [string, string])[];
}

export interface SignedRequest extends UnsignedRequest {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly authorization: string;
}

export function createSessionRequest(input: CreateSessionInput, date: Date): UnsignedRequest {
  const query: [string, string][] = [
    ["profileArn", input.profileArn],
    ["roleArn", input.roleArn],
    ["trustAnchorArn", input.trustAnchorArn],
  ];
  const url = new URL(input.endpoint.replace(/\/+$/, "") + "/sessions");
  url.search = canonicalQuery(query);
  const body = JSON.stringify(
    input.roleSessionName === undefined
      ? { durationSeconds: input.durationSeconds }
      : { durationSeconds: input.durationSeconds, roleSessionName: input.roleSessionName },
  );
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "Host": url.host,
    "X-Amz-Date": amzDate(date),
    "X-Amz-X509": input.certificate.der.toBase64(),
  };
  if (input.intermediates.length > 0) {
    headers["X-Amz-X509-Chain"] = input.intermediates.map((certificate) => certificate.der.toBase64()).join(",");
  }
  return {
    url,
    method: "POST",
    headers,
    body,
    date,
    region: input.region,
    algorithm: input.algorithm,
    serialDecimal: input.certificate.serialDecimal,
    query,
  };
}

/** The canonical request and string to sign for an unsigned request (pure apart from hashing). */
export async function signingStrings(
  request: UnsignedRequest,
): Promise<{ canonicalRequest: string; stringToSign: string; signedHeaders: string[] }> {
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const signedHeaders = Object.keys(headers).sort();
  const canonical = canonicalRequest({
    method: request.method,
    path: request.url.pathname,
    query: request.query,
    headers,
    signedHeaders,
    payloadHash: await sha256Hex(request.body),
  });
  const scope = credentialScope(request.date, request.region);
  return {
    canonicalRequest: canonical,
    stringToSign: stringToSign(request.algorithm, request.date, scope, await sha256Hex(canonical)),
    signedHeaders,
  };
}

/**
 * Signs with the certificate's private key: RSA PKCS#1 v1.5 or ECDSA (DER), both over SHA-256;
 * ML-DSA over the bytes themselves (no pre-hash, empty context, as AWS's helper signs). WebCrypto
 * signs ML-DSA hedged (fresh randomness each time); an expanded-only key signs deterministically.
 */
export async function signBytes(algorithm: SigningAlgorithm, key: SigningKey, data: string): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(data);
  if (isExpandedMlDsaKey(key)) {
    if (algorithm !== "AWS4-X509-MLDSA") throw new TypeError(`an ML-DSA key cannot sign ${algorithm}`);
    const { signWithExpandedKey } = await import("../identity/ml_dsa_expanded.ts");
    return signWithExpandedKey(key.parameterSet, key.expanded, bytes);
  }
  if (algorithm === "AWS4-X509-MLDSA") {
    return new Uint8Array(await crypto.subtle.sign({ name: key.algorithm.name }, key, bytes));
  }
  if (algorithm === "AWS4-X509-RSA-SHA256") {
    return new Uint8Array(await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, key, bytes));
  }
  const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, bytes));
  return ecdsaRawToDer(raw);
}

export async function signRequest(request: UnsignedRequest, key: SigningKey): Promise<SignedRequest> {
  const { canonicalRequest, stringToSign, signedHeaders } = await signingStrings(request);
  const signature = (await signBytes(request.algorithm, key, stringToSign)).toHex();
  const scope = credentialScope(request.date, request.region);
  const authorization = `${request.algorithm} Credential=${request.serialDecimal}/${scope}, ` +
    `SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
  return {
    ...request,
    headers: { ...request.headers, Authorization: authorization },
    canonicalRequest,
    stringToSign,
    authorization,
  };
}
