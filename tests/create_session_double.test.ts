/**
 * The emulator's CreateSession behaves like the service: it accepts a correctly signed request
 * from a certificate that chains to the trust anchor, and rejects tampered bodies and headers,
 * a signature from the wrong key, expired certificates, untrusted CAs, stale dates, the wrong
 * region or service, and roles the profile does not list.
 */
import assert from "node:assert/strict";
import { certificateFromBytes, certificatesFromBundle, privateKeyFromBytes } from "../cli/identity/identity.ts";
import { createSessionRequest, type SignedRequest, signRequest } from "../cli/signing/sigv4_x509.ts";
import { startWalkthrough, type Walkthrough } from "./support/emulator.ts";
import { type Ca, issueDated, issueLeaf, type Leaf, makeCa, makeIntermediate } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

interface Call {
  readonly leaf?: Leaf;
  readonly date?: Date;
  readonly region?: string;
  readonly roleArn?: string;
  readonly intermediates?: string;
  readonly mutate?: (signed: SignedRequest) => { headers: Record<string, string>; body: string; url: URL };
}

async function call(walkthrough: Walkthrough, options: Call = {}) {
  const identityLeaf = options.leaf ?? leaf;
  const certificate = certificateFromBytes(await Deno.readFile(identityLeaf.cert), identityLeaf.cert);
  const key = await privateKeyFromBytes(
    await Deno.readFile(identityLeaf.key),
    identityLeaf.key,
    identityLeaf.passphrase ? { value: identityLeaf.passphrase, source: "test" } : undefined,
  );
  const intermediates = options.intermediates
    ? certificatesFromBundle(await Deno.readFile(options.intermediates), "chain")
    : [];
  const signed = await signRequest(
    createSessionRequest({
      endpoint: walkthrough.emulator.url,
      region: options.region ?? "us-east-1",
      trustAnchorArn: walkthrough.trustAnchorArn,
      profileArn: walkthrough.profileArn,
      roleArn: options.roleArn ?? walkthrough.roleArn,
      durationSeconds: 3600,
      certificate,
      intermediates,
      algorithm: key.algorithm,
    }, options.date ?? new Date()),
    key.signingKey,
  );
  const sent = options.mutate?.(signed) ?? { headers: { ...signed.headers }, body: signed.body, url: signed.url };
  delete sent.headers["Host"];
  const response = await fetch(sent.url, { method: "POST", headers: sent.headers, body: sent.body });
  return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), body: await response.json() };
}

async function withWalkthrough(run: (walkthrough: Walkthrough) => Promise<void>, anchorPem?: string) {
  const walkthrough = await startWalkthrough(anchorPem ?? await Deno.readTextFile(ca.cert));
  try {
    await run(walkthrough);
  } finally {
    await walkthrough.emulator.close();
  }
}

function rejected(
  result: { status: number; errorType: string | null; body: { message: string } },
  code: string,
  message: RegExp,
) {
  assert.equal(result.errorType, code, JSON.stringify(result.body));
  assert.match(result.body.message, message);
  assert.ok(result.status >= 400 && result.status < 500);
}

Deno.test("a correctly signed request gets 201 with credentialSet[0].credentials and subjectArn", () =>
  withWalkthrough(async (walkthrough) => {
    const result = await call(walkthrough);
    assert.equal(result.status, 201);
    const credentials = result.body.credentialSet[0].credentials;
    assert.match(credentials.accessKeyId, /^ASIA/);
    assert.ok(credentials.secretAccessKey && credentials.sessionToken);
    const expiresIn = Date.parse(credentials.expiration) - Date.now();
    assert.ok(expiresIn > 3590_000 && expiresIn <= 3600_000, `expiration ${credentials.expiration}`);
    assert.match(result.body.subjectArn, /^arn:aws:rolesanywhere:us-east-1:123456789012:subject\//);
    assert.equal(result.body.credentialSet[0].sourceIdentity, "CN=myContainer");
    assert.equal(result.body.credentialSet[0].roleArn, walkthrough.roleArn);
  }));

Deno.test("tampered body and tampered signed header: Invalid signature", () =>
  withWalkthrough(async (walkthrough) => {
    rejected(
      await call(walkthrough, {
        mutate: (s) => ({ headers: { ...s.headers }, body: s.body.replace("3600", "3599"), url: s.url }),
      }),
      "AccessDeniedException",
      /^Invalid signature$/,
    );
    rejected(
      await call(walkthrough, {
        mutate: (s) => ({
          headers: { ...s.headers, "Content-Type": "application/x-amz-json-1.1" },
          body: s.body,
          url: s.url,
        }),
      }),
      "AccessDeniedException",
      /^Invalid signature$/,
    );
    rejected(
      await call(walkthrough, {
        mutate: (s) => {
          const url = new URL(s.url);
          url.searchParams.set("roleArn", walkthrough.roleArn.replace("bucket-lister", "admin"));
          return { headers: { ...s.headers }, body: s.body, url };
        },
      }),
      "AccessDeniedException",
      /^Invalid signature$/,
    );
  }));

Deno.test("a signature made with a key that is not the certificate's: Invalid signature", () =>
  withWalkthrough(async (walkthrough) => {
    const impostor = await issueLeaf(ca, "impostor");
    rejected(
      await call(walkthrough, { leaf: { cert: leaf.cert, key: impostor.key, passphrase: impostor.passphrase } }),
      "AccessDeniedException",
      /^Invalid signature$/,
    );
  }));

Deno.test("expired certificate and untrusted CA are refused", () =>
  withWalkthrough(async (walkthrough) => {
    const expired = await issueDated(ca, "expired-double", "20200101000000Z", "20200102000000Z");
    rejected(await call(walkthrough, { leaf: expired }), "AccessDeniedException", /Certificate has expired/);
    const otherCa: Ca = await makeCa(`${dir}/other-ca`, { cn: "myPrivateCA" });
    const stranger = await issueLeaf(otherCa, "stranger");
    rejected(await call(walkthrough, { leaf: stranger }), "AccessDeniedException", /^Untrusted signing certificate$/);
  }));

Deno.test("X-Amz-Date more than 5 minutes off is refused; 4 minutes is fine", () =>
  withWalkthrough(async (walkthrough) => {
    rejected(
      await call(walkthrough, { date: new Date(Date.now() - 6 * 60_000) }),
      "AccessDeniedException",
      /Signature expired/,
    );
    rejected(
      await call(walkthrough, { date: new Date(Date.now() + 6 * 60_000) }),
      "AccessDeniedException",
      /Signature expired/,
    );
    assert.equal((await call(walkthrough, { date: new Date(Date.now() - 4 * 60_000) })).status, 201);
  }));

Deno.test("wrong region in the scope and a role the profile does not list are refused", () =>
  withWalkthrough(async (walkthrough) => {
    rejected(await call(walkthrough, { region: "eu-west-1" }), "AccessDeniedException", /region eu-west-1/);
    rejected(
      await call(walkthrough, { roleArn: "arn:aws:iam::123456789012:role/admin" }),
      "AccessDeniedException",
      /is not listed in profile bucket-lister/,
    );
  }));

Deno.test("a leaf issued by an intermediate needs the chain header", async () => {
  const intermediate = await makeIntermediate(ca, "intermediate");
  const chained = await issueLeaf(intermediate, "chained");
  await withWalkthrough(async (walkthrough) => {
    rejected(await call(walkthrough, { leaf: chained }), "AccessDeniedException", /^Untrusted signing certificate$/);
    assert.equal((await call(walkthrough, { leaf: chained, intermediates: intermediate.cert })).status, 201);
    rejected(
      await call(walkthrough, {
        leaf: chained,
        intermediates: intermediate.cert,
        mutate: (s) => {
          const headers = { ...s.headers };
          delete headers["X-Amz-X509-Chain"];
          headers["X-Amz-X509-Chain"] = s.headers["X-Amz-X509"];
          return { headers, body: s.body, url: s.url };
        },
      }),
      "AccessDeniedException",
      /^Invalid signature$/,
    );
  });
});
