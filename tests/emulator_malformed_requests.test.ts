/**
 * Malformed requests that used to be answered with 500 InternalFailure get the 4xx the service
 * gives, in its format, and nothing changes: a CreateSession whose signature has an odd number
 * of hex digits (Invalid signature), a CreateSession body that is JSON `null` or not an object
 * (ValidationException; the control plane's SerializationException), an S3 path with bad percent-encoding (InvalidURI), and an
 * X-Amz-X509-Chain certificate whose RSA modulus is 0 (Untrusted signing certificate).
 */
import assert from "node:assert/strict";
import { childrenOf, encodedOf, integer, nullValue, oid, readDocument, sequence, tlv } from "../cli/identity/der.ts";
import { OID } from "../cli/identity/oids.ts";
import { parsePem } from "../cli/identity/pem.ts";
import { signedCreateSession } from "./support/create_session.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa, makeIntermediate } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";
import { signedCall } from "./support/sigv4_client.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

/** The certificate with its public key replaced by RSA modulus 0, exponent 65537 (its signature no longer verifies). */
function withZeroModulus(der: Uint8Array): Uint8Array {
  const [tbs, signatureAlgorithm, signature] = childrenOf(readDocument(der));
  const fields = childrenOf(tbs);
  const spkiIndex = fields[0].tag === 0xa0 ? 6 : 5;
  const rsaKey = sequence(integer(0n), integer(65537n));
  const spki = sequence(
    sequence(oid(OID.rsaEncryption), nullValue()),
    tlv(0x03, new Uint8Array([0, ...rsaKey])),
  );
  const rebuilt = fields.map((field, index) => index === spkiIndex ? spki : encodedOf(field));
  return sequence(sequence(...rebuilt), encodedOf(signatureAlgorithm), encodedOf(signature));
}

Deno.test("malformed CreateSession and S3 requests are 4xx in the service's format, not 500", async () => {
  const intermediate = await makeIntermediate(ca, "intermediate");
  const chained = await issueLeaf(intermediate, "chained");
  const intermediateDer = parsePem(await Deno.readTextFile(intermediate.cert))[0].bytes;
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const odd = await signedCreateSession(walkthrough, leaf, {
      authorization: (value) => value.replace(/Signature=([0-9a-f]+)$/, (_, hex) => `Signature=${hex}0`),
    });
    assert.equal(odd.status, 403, JSON.stringify(odd.body));
    assert.equal(odd.errorType, "AccessDeniedException");
    assert.equal(odd.body.message, "Invalid signature");

    for (const body of ["null", "[]", '"text"', "42"]) {
      const answer = await signedCreateSession(walkthrough, leaf, { body });
      assert.equal(answer.status, 400, `${body}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.errorType, "ValidationException");
    }

    const zero = await signedCreateSession(walkthrough, chained, {
      intermediateDers: [withZeroModulus(intermediateDer)],
    });
    assert.equal(zero.status, 403, JSON.stringify(zero.body));
    assert.equal(zero.errorType, "AccessDeniedException");
    assert.equal(zero.body.message, "Untrusted signing certificate");

    const controlPlane = await signedCall(walkthrough.emulator.url, walkthrough.emulator.admin, {
      service: "rolesanywhere",
      path: "/trustanchors",
      headers: { "content-type": "application/json" },
      body: "null",
    });
    assert.equal(controlPlane.status, 400, controlPlane.text);
    assert.equal(controlPlane.headers.get("x-amzn-errortype"), "SerializationException");

    const badPath = await signedCall(walkthrough.emulator.url, walkthrough.emulator.admin, {
      service: "s3",
      method: "PUT",
      path: "/bucket%zz",
    });
    assert.equal(badPath.status, 400, badPath.text);
    assert.match(badPath.text, /<Error><Code>InvalidURI<\/Code>/);
    assert.deepEqual(Object.keys(walkthrough.emulator.state.buckets), []);

    assert.equal((await signedCreateSession(walkthrough, leaf)).status, 201, "still serving");
    assert.equal(walkthrough.emulator.state.sessionsIssued, 1);
  } finally {
    await walkthrough.emulator.close();
  }
});
