/**
 * --debug (or ROLESANYWHERE_DEBUG=1) explains each step on stderr, including the canonical
 * request and string to sign, and never prints the secret key, session token or passphrase.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

Deno.test("debug output shows the signing steps and no secret", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    for (const [args, env] of [[["--debug"], {}], [[], { ROLESANYWHERE_DEBUG: "1" }]] as const) {
      const result = await certrole(["credential-process", "--cache-dir", `${dir}/cache`, ...args], {
        env: { ...sessionEnv(walkthrough, leaf), ...env },
      });
      assert.equal(result.code, 0, result.stderr);
      const credentials = JSON.parse(result.stdout);
      const stderr = result.stderr;
      assert.ok(stderr.split("\n").filter(Boolean).every((line) => line.startsWith("certrole debug: ")));
      for (const secret of [credentials.SecretAccessKey, credentials.SessionToken, leaf.passphrase!]) {
        assert.ok(!stderr.includes(secret), "a secret leaked into the debug output");
      }
      assert.match(stderr, new RegExp(`access key ${credentials.AccessKeyId}`));
      if (args.length) {
        assert.match(
          stderr,
          /canonical request:\ncertrole debug: POST\ncertrole debug: \/sessions\ncertrole debug: profileArn=arn%3Aaws%3Arolesanywhere/,
        );
        assert.match(stderr, /string to sign:\ncertrole debug: AWS4-X509-RSA-SHA256\n/);
        assert.match(stderr, /passphrase from ROLESANYWHERE_KEY_PASSPHRASE/);
        assert.match(stderr, /decrypted in memory/);
      } else {
        assert.match(stderr, /cache hit/);
      }
    }
  } finally {
    await walkthrough.emulator.close();
  }
});
