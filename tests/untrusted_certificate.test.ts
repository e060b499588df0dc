/**
 * CreateSession's "AccessDeniedException: Untrusted signing certificate" (a certificate from
 * another CA than the trust anchor's, here refused by the emulator) comes with what the client
 * can check locally, each case named precisely: the certificate expired or not yet valid by this
 * machine's clock, self-signed, intermediates that do not sign it, an intermediate out of its
 * dates, a chain that ends at a root the anchor must hold; when all of that holds, the issuer
 * (name and key id) the trust anchor must hold, without claiming why the anchor refused it; then
 * the `certrole pki check` command, which names the broken link.
 */
import assert from "node:assert/strict";
import { type Certificate, parseCertificate } from "../cli/identity/certificate.ts";
import { parsePem } from "../cli/identity/pem.ts";
import { untrustedCause } from "../cli/rolesanywhere/untrusted_hint.ts";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueDated, issueLeaf, makeCa, makeIntermediate } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const CLOCK = "by this machine's clock";

async function certificatesIn(...paths: string[]): Promise<Certificate[]> {
  const texts = await Promise.all(paths.map((path) => Deno.readTextFile(path)));
  return texts.flatMap((text) => parsePem(text).map((block) => parseCertificate(block.bytes)));
}

function keyIdOf(certificate: Certificate): string {
  return certificate.subjectKeyId!.toHex().toUpperCase().replace(/(..)(?!$)/g, "$1:");
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

Deno.test("Untrusted signing certificate: the message names the issuer the anchor must hold, then pki check", async () => {
  const dir = await tempDir("certrole untrusted ");
  const anchorCa = await makeCa(`${dir}/anchor`, { cn: "myPrivateCA" });
  const otherCa = await makeCa(`${dir}/other`, { cn: "myPrivateCA" });
  const leaf = await issueLeaf(otherCa, "container");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(anchorCa.cert));
  try {
    const result = await certrole(["credential-process", "--no-cache"], { env: sessionEnv(walkthrough, leaf) });
    assert.equal(result.code, 1, result.stderr);
    const [other] = await certificatesIn(otherCa.cert);
    const command = `certrole pki check --ca <trust anchor CA> --cert '${leaf.cert}'`;
    assert.equal(
      result.stderr,
      "certrole: CreateSession failed: AccessDeniedException: Untrusted signing certificate: the certificate is " +
        `valid ${CLOCK}; the trust anchor must hold its issuer "${other.subject.text}" (key id ${keyIdOf(other)}), ` +
        `valid and meeting Roles Anywhere's CA requirements; compare with the trust anchor's CA: ${command}\n`,
    );

    const check = await certrole(["pki", "check", "--ca", anchorCa.cert, "--cert", leaf.cert]);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /✗ does not chain to the CA "CN=myPrivateCA.*this CA.s key did not sign it/);
  } finally {
    await walkthrough.emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the local cause: expired, not yet valid, self-signed, wrong or out-of-date intermediates", async () => {
  const dir = await tempDir();
  const root = await makeCa(`${dir}/root`, { cn: "Root CA" });
  const intermediate = await makeIntermediate(root, "Issuing CA");
  const unrelated = await makeIntermediate(await makeCa(`${dir}/elsewhere`, { cn: "Elsewhere" }), "Other Issuing CA");
  const [leaf] = await certificatesIn((await issueLeaf(root, "leaf", { days: 10 })).cert);
  const [viaIntermediate] = await certificatesIn(
    (await issueDated(intermediate, "long", "20200101000000Z", "20990101000000Z")).cert,
  );
  const [rootCert] = await certificatesIn(root.cert);
  const [issuing] = await certificatesIn(intermediate.cert);
  const [otherIssuing] = await certificatesIn(unrelated.cert);
  const files = { certificate: "cert.pem", intermediates: "chain.pem" };
  const cause = (certificate: Certificate, intermediates: Certificate[], now: Date) =>
    untrustedCause({ certificate, intermediates, files, now });
  const day = 86_400_000;

  const after = new Date(leaf.notAfter.getTime() + day);
  assert.equal(
    await cause(leaf, [], after),
    `the certificate expired at ${iso(leaf.notAfter)} (${CLOCK}): issue a new one`,
  );
  const before = new Date(leaf.notBefore.getTime() - day);
  assert.equal(
    await cause(leaf, [], before),
    `the certificate is not valid until ${iso(leaf.notBefore)} (${CLOCK}): check this machine's clock, or wait`,
  );
  const now = new Date(leaf.notBefore.getTime() + 1000);
  assert.equal(
    await cause(rootCert, [], now),
    "the certificate is self-signed: Roles Anywhere trusts only certificates signed by the trust anchor's CA",
  );
  assert.equal(
    await cause(viaIntermediate, [otherIssuing], now),
    "none of the 1 certificate(s) in --intermediates chain.pem signed the certificate; its issuer is " +
      `"CN=Issuing CA" (key id ${keyIdOf(issuing)}): add that intermediate to --intermediates chain.pem, or the ` +
      "trust anchor must hold that CA",
  );
  assert.equal(
    await cause(viaIntermediate, [issuing], new Date(issuing.notAfter.getTime() + day)),
    `the intermediate "CN=Issuing CA" in --intermediates chain.pem expired at ${
      iso(issuing.notAfter)
    } (${CLOCK}): renew it`,
  );
  assert.equal(
    await cause(viaIntermediate, [otherIssuing, issuing], now),
    `the certificate and the 1 intermediate(s) sent are valid ${CLOCK}; the trust anchor must hold the top one's ` +
      `issuer "${rootCert.subject.text}" (key id ${
        keyIdOf(rootCert)
      }), valid and meeting Roles Anywhere's CA requirements`,
  );
  assert.equal(
    await cause(viaIntermediate, [issuing, rootCert], now),
    `the chain sent ends at the self-signed CA "${rootCert.subject.text}" (key id ${keyIdOf(rootCert)}), ` +
      `valid ${CLOCK}: the trust anchor must hold that CA certificate`,
  );
});
