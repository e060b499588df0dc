/**
 * One CreateSession call signed with certrole's SigV4-X509 signer and sent with fetch, at a
 * chosen date, for tests that need the raw answer (status, X-Amzn-ErrorType, JSON body) rather
 * than what `certrole credential-process` makes of it. The signing key can be given as a
 * WebCrypto key, to sign with keys certrole's own loader would refuse.
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
    /** For an HTTPS emulator: a client that trusts its CA. */
    readonly client?: Deno.HttpClient;
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
  const signed = await signRequest(
    createSessionRequest({
      endpoint: walkthrough.emulator.url,
      region: "us-east-1",
      trustAnchorArn: walkthrough.trustAnchorArn,
      profileArn: walkthrough.profileArn,
      roleArn: walkthrough.roleArn,
      durationSeconds: options.durationSeconds ?? 3600,
      roleSessionName: options.roleSessionName,
      certificate: certificateFromBytes(await Deno.readFile(leaf.cert), leaf.cert),
      intermediates: chain.length ? certificatesFromBundle(bundle, "chain") : [],
      algorithm: signer.algorithm,
    }, options.date ?? new Date()),
    signer.key,
  );
  const headers: Record<string, string> = { ...signed.headers };
  delete headers["Host"];
  const response = await fetch(signed.url, { method: "POST", headers, body: signed.body, client: options.client });
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
