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
import { rsaSigningKey, signedCreateSession } from "./support/create_session.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { type Ca, issueLeaf, makeCa, makeIntermediate } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";

const dir = await tempDir("certrole certificate rules ");
const ca = await makeCa(dir);
const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
const WITHOUT_KEY_USAGE = "authorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\n";

async function createSession(leaf: { cert: string; key: string }, intermediates: readonly Ca[] = []) {
  return await signedCreateSession(walkthrough, leaf, {
    intermediates: intermediates.map((intermediate) => intermediate.cert),
    signingKey: await rsaSigningKey(leaf.key),
  });
}

async function refused(leaf: { cert: string; key: string }, reason: RegExp, intermediates: readonly Ca[] = []) {
  const result = await createSession(leaf, intermediates);
  assert.equal(result.status, 403, JSON.stringify(result));
  assert.equal(result.errorType, "AccessDeniedException");
  assert.match(result.body.message, /^Untrusted signing certificate: /);
  assert.match(result.body.message, reason);
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
        await plainLeaf(ca, "rsa1024", { keyType: "rsa:1024" }),
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
