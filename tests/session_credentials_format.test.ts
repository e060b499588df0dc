/**
 * The keys the emulator hands out look like AWS's: a CreateSession access key ID is ASIA and 16
 * base32 characters (20, like STS's), its secret access key 40 characters of base64 (with + and
 * /, as AWS's have); the generated administrator key is AKIA and 16, with a 40-character secret.
 * Several sessions, so a generator that sometimes drops characters cannot pass by luck.
 */
import assert from "node:assert/strict";
import { signedCreateSession } from "./support/create_session.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";

const dir = await tempDir("certrole key format ");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf", { passphrase: null });

Deno.test("CreateSession keys are 20 and 40 characters like STS's; the administrator key like IAM's", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    for (let index = 0; index < 12; index++) {
      const answer = await signedCreateSession(walkthrough, leaf);
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      const { accessKeyId, secretAccessKey, sessionToken } = answer.body.credentialSet[0].credentials;
      assert.match(accessKeyId, /^ASIA[A-Z2-7]{16}$/);
      assert.match(secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
      assert.ok(sessionToken.length > 100);
    }
    assert.match(walkthrough.emulator.admin.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.match(walkthrough.emulator.admin.secretAccessKey, /^[A-Za-z0-9+/]{40}$/);
  } finally {
    await walkthrough.emulator.close();
  }
});
