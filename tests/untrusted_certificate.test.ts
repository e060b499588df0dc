/**
 * CreateSession's "AccessDeniedException: Untrusted signing certificate" (a certificate from
 * another CA than the trust anchor's, here refused by the emulator) comes with the next step:
 * the `certrole pki check` command for that certificate, which then names the broken link.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

Deno.test("Untrusted signing certificate: the message names the pki check command, which finds the cause", async () => {
  const dir = await tempDir("certrole untrusted ");
  const anchorCa = await makeCa(`${dir}/anchor`, { cn: "myPrivateCA" });
  const otherCa = await makeCa(`${dir}/other`, { cn: "myPrivateCA" });
  const leaf = await issueLeaf(otherCa, "container");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(anchorCa.cert));
  try {
    const result = await certrole(["credential-process", "--no-cache"], { env: sessionEnv(walkthrough, leaf) });
    assert.equal(result.code, 1, result.stderr);
    const command = `certrole pki check --ca <trust anchor CA> --cert '${leaf.cert}'`;
    assert.equal(
      result.stderr,
      "certrole: CreateSession failed: AccessDeniedException: Untrusted signing certificate: the certificate does not " +
        `chain to the trust anchor's CA; find the missing link with ${command}\n`,
    );

    const check = await certrole(["pki", "check", "--ca", anchorCa.cert, "--cert", leaf.cert]);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /✗ does not chain to the CA "CN=myPrivateCA.*this CA.s key did not sign it/);
  } finally {
    await walkthrough.emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});
