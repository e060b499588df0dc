/**
 * No decrypted key on disk, ever: after exec ran the AWS CLI through credential_process, no
 * file under /tmp, $HOME or the working directory holds a plaintext PEM key header or the key's
 * DER bytes, and the passphrase and session secrets appear in no file but the ones asked for.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, openssl, tempDir } from "./support/run.ts";

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

async function* files(root: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = Deno.readDir(root);
    for await (const entry of entries) {
      const path = `${root}/${entry.name}`;
      if (entry.isDirectory) yield* files(path);
      else if (entry.isFile) yield path;
    }
  } catch { /* vanished or unreadable: another test's scratch */ }
}

Deno.test("after exec and credential_process, no plaintext key anywhere under /tmp, $HOME or the cwd", async () => {
  const home = await tempDir("certrole-home-");
  const work = await tempDir("certrole-cwd-");
  const ca = await makeCa(`${work}/pki`);
  const leaf = await issueLeaf(ca, "leaf", { passphrase: `unique-${crypto.randomUUID()}` });
  const der = Uint8Array.from(
    (await new Deno.Command("openssl", {
      args: ["pkey", "-in", leaf.key, "-passin", `pass:${leaf.passphrase}`, "-outform", "DER"],
      stdout: "piped",
    }).output()).stdout,
  );
  const rsaDer = Uint8Array.from(
    (await new Deno.Command("openssl", {
      args: ["rsa", "-in", leaf.key, "-passin", `pass:${leaf.passphrase}`, "-outform", "DER", "-traditional"],
      stdout: "piped",
    }).output()).stdout,
  );
  await openssl(["pkey", "-in", leaf.key, "-passin", `pass:${leaf.passphrase}`, "-noout"]);
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const result = await certrole(
      ["exec", "--", "/usr/bin/aws", "sts", "get-caller-identity", "--endpoint-url", walkthrough.emulator.url],
      { env: { ...sessionEnv(walkthrough, leaf), HOME: home }, cwd: work },
    );
    assert.equal(result.code, 0, result.stderr);
  } finally {
    await walkthrough.emulator.close();
  }
  const session = Object.values(walkthrough.emulator.state.sessions)[0];
  // Bytes 288..320 of the PKCS#8 DER are key material; as base64 they sit on one PEM line (chars 384..428).
  const base64 = new TextEncoder().encode(der.subarray(288, 321).toBase64());
  const secrets = [leaf.passphrase!, session.secretAccessKey, session.sessionToken].map((s) =>
    new TextEncoder().encode(s)
  );
  const cacheDir = `${home}/.cache/certrole`;
  let scanned = 0;
  for (const root of ["/tmp", home, work]) {
    for await (const path of files(root)) {
      const info = await Deno.stat(path).catch(() => undefined);
      if (!info || info.size > 4 * 1024 * 1024) continue;
      const bytes = await Deno.readFile(path).catch(() => new Uint8Array(0));
      scanned++;
      for (const key of [der, rsaDer, base64]) assert.ok(!contains(bytes, key), `the private key is in ${path}`);
      if (!path.startsWith("/tmp/") || path.startsWith(home) || path.startsWith(work)) {
        assert.doesNotMatch(
          new TextDecoder().decode(bytes),
          /-----BEGIN (RSA |EC )?PRIVATE KEY-----/,
          `plaintext PEM key in ${path}`,
        );
      }
      if (path.startsWith(`${cacheDir}/`) && path.endsWith(".json")) continue; // the documented credential cache
      for (const secret of secrets) assert.ok(!contains(bytes, secret), `a secret is in ${path}`);
    }
  }
  assert.ok(scanned > 5, `scanned ${scanned} files`);
});
