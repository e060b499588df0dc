/** `certrole credential-process` prints the credential_process JSON the AWS CLI reads, from a real CreateSession. */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

Deno.test("credential-process prints Version 1 JSON with the issued credentials", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const result = await certrole(["credential-process", "--no-cache"], { env: sessionEnv(walkthrough, leaf) });
    assert.equal(result.code, 0, result.stderr);
    const output = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(output), ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]);
    assert.equal(output.Version, 1);
    assert.match(output.AccessKeyId, /^ASIA[A-Z0-9]{16}$/);
    const issued = walkthrough.emulator.state.sessions[output.AccessKeyId];
    assert.ok(issued, "the access key was issued by the emulator");
    assert.equal(output.SecretAccessKey, issued.secretAccessKey);
    assert.equal(output.SessionToken, issued.sessionToken);
    assert.equal(output.Expiration, issued.expiration);
  } finally {
    await walkthrough.emulator.close();
  }
});
