/**
 * One SigV4 (HMAC) request signed by the AWS SDK's signer (@smithy/signature-v4) and sent with
 * fetch, with the knobs tests of the emulator's checks need: the scope region, headers to sign
 * (an x-amz-content-sha256 of the caller's choosing), `host` left unsigned, or another body sent
 * than the one signed.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

export interface SignedCall {
  readonly service: string;
  readonly region?: string;
  readonly method?: string;
  readonly path?: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Sign without the host header. */
  readonly unsignedHost?: boolean;
  /** Send this body instead of the signed one (the signed headers unchanged). */
  readonly sentBody?: string;
  /** Let the signer add x-amz-content-sha256 (the SDK's default); false leaves it out. */
  readonly contentSha256Header?: boolean;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export async function signedCall(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  call: SignedCall,
): Promise<Answer> {
  const target = new URL(url);
  const signer = new SignatureV4({
    service: call.service,
    region: call.region ?? "us-east-1",
    credentials,
    sha256: Sha256,
    applyChecksum: call.contentSha256Header ?? true,
    uriEscapePath: call.service !== "s3",
  });
  const signed = await signer.sign({
    method: call.method ?? "POST",
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: call.path ?? "/",
    query: call.query ?? {},
    headers: { ...(call.unsignedHost ? {} : { host: target.host }), ...call.headers },
    body: call.body,
  });
  const headers = { ...signed.headers as Record<string, string> };
  delete headers.host;
  const search = new URLSearchParams(call.query ?? {}).toString();
  const response = await fetch(`${url}${call.path ?? "/"}${search ? `?${search}` : ""}`, {
    method: call.method ?? "POST",
    headers,
    body: call.sentBody ?? call.body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

export const FORM = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
