/**
 * The emulator's CreateSession refuses, as Roles Anywhere does (AccessDeniedException, "Untrusted
 * signing certificate"), correctly signed requests from certificates that break the service's
 * certificate rules: a leaf signed with SHA-1, a CA:TRUE leaf, a leaf without digitalSignature, an
 * X.509 v1 leaf, an RSA-1024 leaf, a chain through an intermediate without keyCertSign, and a
 * chain that violates pathLenConstraint 0. The certificates are made with openssl; the requests
 * are signed with WebCrypto straight from the PKCS#8 keys, so certrole's own client-side checks
 * never get a say.
 */
import assert from "node:assert/strict";
import { certificateFromBytes, certificatesFromBundle } from "../cli/identity/identity.ts";
import { parsePem } from "../cli/identity/pem.ts";
import { createSessionRequest, signRequest } from "../cli/signing/sigv4_x509.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { type Ca, issueLeaf, LEAF_EXTENSIONS, makeCa, makeIntermediate } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";

const dir = await tempDir("certrole certificate rules ");
const ca = await makeCa(dir);
const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
const WITHOUT_KEY_USAGE = "authorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\n";

/** A PKCS#8 RSA key file as a WebCrypto signing key (any size: WebCrypto has no minimum). */
async function rsaSigningKey(path: string): Promise<CryptoKey> {
  const [block] = parsePem(await Deno.readTextFile(path));
  return await crypto.subtle.importKey(
    "pkcs8",
    Uint8Array.from(block.bytes),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

async function createSession(
  leaf: { cert: string; key: string },
  intermediates: readonly Ca[] = [],
): Promise<{ status: number; errorType: string | null; message: string }> {
  const bundle = new TextEncoder().encode(
    (await Promise.all(intermediates.map((intermediate) => Deno.readTextFile(intermediate.cert)))).join(""),
  );
  const signed = await signRequest(
    createSessionRequest({
      endpoint: walkthrough.emulator.url,
      region: "us-east-1",
      trustAnchorArn: walkthrough.trustAnchorArn,
      profileArn: walkthrough.profileArn,
      roleArn: walkthrough.roleArn,
      durationSeconds: 3600,
      certificate: certificateFromBytes(await Deno.readFile(leaf.cert), leaf.cert),
      intermediates: intermediates.length ? certificatesFromBundle(bundle, "chain") : [],
      algorithm: "AWS4-X509-RSA-SHA256",
    }, new Date()),
    await rsaSigningKey(leaf.key),
  );
  const headers: Record<string, string> = { ...signed.headers };
  delete headers["Host"];
  const response = await fetch(signed.url, { method: "POST", headers, body: signed.body });
  const body = await response.json();
  return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), message: body.message };
}

async function refused(leaf: { cert: string; key: string }, reason: RegExp, intermediates: readonly Ca[] = []) {
  const result = await createSession(leaf, intermediates);
  assert.equal(result.status, 403, JSON.stringify(result));
  assert.equal(result.errorType, "AccessDeniedException");
  assert.match(result.message, /^Untrusted signing certificate: /);
  assert.match(result.message, reason);
}

const plainLeaf = (issuer: Ca, name: string, options: Parameters<typeof issueLeaf>[2] = {}) =>
  issueLeaf(issuer, name, { passphrase: null, ...options });

Deno.test("certificate rules at CreateSession", async (t) => {
  try {
    await t.step("the walkthrough's leaf and a chain through a proper intermediate get credentials", async () => {
      assert.equal((await createSession(await plainLeaf(ca, "good"))).status, 201);
      const intermediate = await makeIntermediate(ca, "issuing");
      assert.equal((await createSession(await plainLeaf(intermediate, "chained"), [intermediate])).status, 201);
    });

    await t.step("a leaf signed with SHA-1", async () => {
      await refused(
        await plainLeaf(ca, "sha1", { digest: "sha1" }),
        /certificate "CN=myContainer": signed with sha1WithRSAEncryption \(SHA-1\); .*SHA-256 or stronger/,
      );
    });

    await t.step("a CA:TRUE leaf", async () => {
      await refused(
        await plainLeaf(ca, "ca-true", { extensions: "basicConstraints=CA:TRUE\nkeyUsage=digitalSignature" }),
        /certificate "CN=myContainer": basicConstraints CA:TRUE: a CA certificate cannot sign in/,
      );
    });

    await t.step("a leaf without digitalSignature", async () => {
      await refused(
        await plainLeaf(ca, "no-ds", { extensions: WITHOUT_KEY_USAGE + "keyUsage=keyEncipherment" }),
        /certificate "CN=myContainer": keyUsage lacks digitalSignature/,
      );
    });

    await t.step("an X.509 v1 leaf", async () => {
      await refused(await plainLeaf(ca, "v1", { extensions: null }), /certificate "CN=myContainer": X\.509 v1/);
    });

    await t.step("an RSA-1024 leaf", async () => {
      await refused(
        await plainLeaf(ca, "rsa1024", { keyType: "rsa:1024", extensions: LEAF_EXTENSIONS }),
        /certificate "CN=myContainer": RSA 1024-bit key; Roles Anywhere accepts RSA of 2048 bits or more/,
      );
    });

    await t.step("a chain through an intermediate without keyCertSign", async () => {
      const intermediate = await makeIntermediate(ca, "no-certsign", {
        extensions: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,cRLSign\n",
      });
      await refused(
        await plainLeaf(intermediate, "under-no-certsign"),
        /intermediate CA "CN=no-certsign": keyUsage lacks keyCertSign/,
        [intermediate],
      );
    });

    await t.step("a chain that violates pathLenConstraint 0", async () => {
      const top = await makeIntermediate(ca, "pathlen-0", {
        extensions: "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
      });
      const below = await makeIntermediate(top, "below-pathlen-0");
      const leaf = await plainLeaf(below, "too-deep");
      await refused(
        leaf,
        /pathLenConstraint 0 of "CN=pathlen-0" allows no intermediate CA below it, and the chain has 1/,
        [below, top],
      );
      // pathlen:0 still allows a leaf issued by that CA directly.
      assert.equal((await createSession(await plainLeaf(top, "direct"), [top])).status, 201);
    });
  } finally {
    await walkthrough.emulator.close();
  }
});
