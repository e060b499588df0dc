/**
 * One CreateSession call signed with certrole's SigV4-X509 signer and sent with fetch, at a
 * chosen date, for tests that need the raw answer (status, X-Amzn-ErrorType, JSON body) rather
 * than what `certrole credential-process` makes of it. The signing key can be given as a
 * WebCrypto key, to sign with keys certrole's own loader would refuse; headers, the body, what
 * is sent and the Authorization header can be changed, for tests of what the service refuses.
 */
import { certificateFromBytes, certificatesFromBundle, privateKeyFromBytes } from "../../cli/identity/identity.ts";
import { parsePem } from "../../cli/identity/pem.ts";
import type { SigningAlgorithm } from "../../cli/identity/private_key.ts";
import { createSessionRequest, signRequest } from "../../cli/signing/sigv4_x509.ts";
import type { Walkthrough } from "./emulator.ts";

export interface CreateSessionAnswer {
  readonly status: number;
  readonly errorType: string | null;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

export async function signedCreateSession(
  walkthrough: Walkthrough,
  leaf: { readonly cert: string; readonly key: string; readonly passphrase?: string },
  options: {
    readonly date?: Date;
    readonly durationSeconds?: number;
    readonly roleSessionName?: string;
    /** PEM files of the intermediates, sent in X-Amz-X509-Chain in this order. */
    readonly intermediates?: readonly string[];
    /** Sign with this instead of loading leaf.key through certrole. */
    readonly signingKey?: { readonly key: CryptoKey; readonly algorithm: SigningAlgorithm };
    /** DER intermediates for X-Amz-X509-Chain, when they are not files (certificates made by hand). */
    readonly intermediateDers?: readonly Uint8Array[];
    /** For an HTTPS emulator: a client that trusts its CA. */
    readonly client?: Deno.HttpClient;
    /** More headers to sign (or signed headers to replace). */
    readonly headers?: Record<string, string>;
    /** Sign and send this body instead of CreateSession's JSON. */
    readonly body?: string;
    /** Send this body instead of the signed one. */
    readonly sentBody?: string;
    /** Rewrites the Authorization header after signing. */
    readonly authorization?: (value: string) => string;
  } = {},
): Promise<CreateSessionAnswer> {
  const signer = options.signingKey ?? await (async () => {
    const key = await privateKeyFromBytes(
      await Deno.readFile(leaf.key),
      leaf.key,
      leaf.passphrase ? { value: leaf.passphrase, source: "test" } : undefined,
    );
    return { key: key.signingKey, algorithm: key.algorithm };
  })();
  const chain = options.intermediates ?? [];
  const bundle = new TextEncoder().encode((await Promise.all(chain.map((path) => Deno.readTextFile(path)))).join(""));
  const unsigned = createSessionRequest({
    endpoint: walkthrough.emulator.url,
    region: "us-east-1",
    trustAnchorArn: walkthrough.trustAnchorArn,
    profileArn: walkthrough.profileArn,
    roleArn: walkthrough.roleArn,
    durationSeconds: options.durationSeconds ?? 3600,
    roleSessionName: options.roleSessionName,
    certificate: certificateFromBytes(await Deno.readFile(leaf.cert), leaf.cert),
    intermediates: [
      ...(chain.length ? certificatesFromBundle(bundle, "chain") : []),
      ...(options.intermediateDers ?? []).map((der) => ({ der })),
    ],
    algorithm: signer.algorithm,
  }, options.date ?? new Date());
  const signed = await signRequest(
    { ...unsigned, headers: { ...unsigned.headers, ...options.headers }, body: options.body ?? unsigned.body },
    signer.key,
  );
  const headers: Record<string, string> = { ...signed.headers };
  delete headers["Host"];
  if (options.authorization) headers["Authorization"] = options.authorization(headers["Authorization"]);
  const response = await fetch(signed.url, {
    method: "POST",
    headers,
    body: options.sentBody ?? signed.body,
    client: options.client,
  });
  return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), body: await response.json() };
}

/** A PKCS#8 RSA key file as a WebCrypto signing key, whatever its size (WebCrypto has no minimum). */
export async function rsaSigningKey(path: string): Promise<{ key: CryptoKey; algorithm: SigningAlgorithm }> {
  const [block] = parsePem(await Deno.readTextFile(path));
  const key = await crypto.subtle.importKey(
    "pkcs8",
    Uint8Array.from(block.bytes),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return { key, algorithm: "AWS4-X509-RSA-SHA256" };
}
