/**
 * One CreateSession call signed with certrole's SigV4-X509 signer and sent with fetch, at a
 * chosen date, for tests that need the raw answer (status, X-Amzn-ErrorType, JSON body) rather
 * than what `certrole credential-process` makes of it.
 */
import { certificateFromBytes, privateKeyFromBytes } from "../../cli/identity/identity.ts";
import { createSessionRequest, signRequest } from "../../cli/signing/sigv4_x509.ts";
import type { Walkthrough } from "./emulator.ts";
import type { Leaf } from "./pki.ts";

export interface CreateSessionAnswer {
  readonly status: number;
  readonly errorType: string | null;
  readonly body: Record<string, unknown>;
}

export async function signedCreateSession(
  walkthrough: Walkthrough,
  leaf: Leaf,
  options: {
    date?: Date;
    durationSeconds?: number;
    /** More headers to sign. */
    headers?: Record<string, string>;
    /** Sign and send this body instead of CreateSession's JSON. */
    body?: string;
    /** Send this body instead of the signed one. */
    sentBody?: string;
    /** DER intermediates for X-Amz-X509-Chain. */
    intermediates?: readonly Uint8Array[];
    /** Rewrites the Authorization header after signing. */
    authorization?: (value: string) => string;
  } = {},
): Promise<CreateSessionAnswer> {
  const certificate = certificateFromBytes(await Deno.readFile(leaf.cert), leaf.cert);
  const key = await privateKeyFromBytes(
    await Deno.readFile(leaf.key),
    leaf.key,
    leaf.passphrase ? { value: leaf.passphrase, source: "test" } : undefined,
  );
  const unsigned = createSessionRequest({
    endpoint: walkthrough.emulator.url,
    region: "us-east-1",
    trustAnchorArn: walkthrough.trustAnchorArn,
    profileArn: walkthrough.profileArn,
    roleArn: walkthrough.roleArn,
    durationSeconds: options.durationSeconds ?? 3600,
    certificate,
    intermediates: (options.intermediates ?? []).map((der) => ({ der })),
    algorithm: key.algorithm,
  }, options.date ?? new Date());
  const signed = await signRequest(
    { ...unsigned, headers: { ...unsigned.headers, ...options.headers }, body: options.body ?? unsigned.body },
    key.signingKey,
  );
  const headers = { ...signed.headers };
  delete headers["Host"];
  if (options.authorization) headers["Authorization"] = options.authorization(headers["Authorization"]);
  const response = await fetch(signed.url, { method: "POST", headers, body: options.sentBody ?? signed.body });
  return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), body: await response.json() };
}
