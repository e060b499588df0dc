/**
 * Certificates have a size limit before anything decodes them: an X-Amz-X509 or an
 * X-Amz-X509-Chain entry longer than 16,000 characters (the longest trust anchor certificate
 * data IAM Roles Anywhere's model allows) is a ValidationException naming the header and the
 * limit, logged without a fingerprint; so is a trust anchor bundle over 16,000 characters.
 */
import assert from "node:assert/strict";
import { signedCreateSession } from "./support/create_session.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";
import { signedCall } from "./support/sigv4_client.ts";

Deno.test("an X-Amz-X509 or chain entry over 16,000 characters is refused before it is parsed", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const long = "A".repeat(16_004);
    const leafTooLong = await signedCreateSession(walkthrough, leaf, { headers: { "X-Amz-X509": long } });
    assert.equal(leafTooLong.status, 400, JSON.stringify(leafTooLong.body));
    assert.equal(leafTooLong.errorType, "ValidationException");
    assert.equal(leafTooLong.body.message, "X-Amz-X509 is 16004 characters: a certificate may have at most 16000");
    const logged = walkthrough.sessionLog.at(-1)!;
    assert.equal(logged.outcome, "ValidationException");
    assert.equal(logged.certificate.fingerprintSha256, undefined);

    const caDer = (await Deno.readTextFile(ca.cert)).replace(/-----[^-]+-----|\s/g, "");
    const chainTooLong = await signedCreateSession(walkthrough, leaf, {
      headers: { "X-Amz-X509-Chain": `${caDer},${long}` },
    });
    assert.equal(chainTooLong.status, 400, JSON.stringify(chainTooLong.body));
    assert.match(String(chainTooLong.body.message), /^X-Amz-X509-Chain entry 2 is 16004 characters/);

    const pem = await Deno.readTextFile(ca.cert);
    const bundle = pem.repeat(Math.ceil(16_001 / pem.length));
    const anchor = await signedCall(walkthrough.emulator.url, walkthrough.emulator.admin, {
      service: "rolesanywhere",
      path: "/trustanchors",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "big",
        source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: bundle } },
      }),
    });
    assert.equal(anchor.status, 400, anchor.text);
    assert.equal(anchor.headers.get("x-amzn-errortype"), "ValidationException");
    assert.match(JSON.parse(anchor.text).message, /at most 16000/);
  } finally {
    await walkthrough.emulator.close();
  }
});
