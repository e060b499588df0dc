/**
 * No decrypted key on disk, ever: after exec ran the AWS CLI through credential_process, no file
 * in any place certrole could write holds a plaintext PEM key header or the key's DER bytes, and
 * the passphrase and session secrets appear in no file but the credential cache. The places are
 * private to this test: TMPDIR, HOME, XDG_CACHE_HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR and the cwd,
 * and (as root, in a mount namespace) /tmp, /var/tmp and /dev/shm themselves, so a hard-coded
 * temporary path lands where the test looks instead of among other tests' files.
 */
import assert from "node:assert/strict";
import { defaultCacheDir } from "../cli/credentials/cache.ts";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certroleArgv, openssl, ROOT, run } from "./support/run.ts";
import { canUnshareMounts } from "./support/read_only_root.ts";

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  for (let i = haystack.indexOf(needle[0]); i !== -1; i = haystack.indexOf(needle[0], i + 1)) {
    if (i + needle.length > haystack.length) return false;
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}

async function* files(root: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(root)) {
    const path = `${root}/${entry.name}`;
    if (entry.isDirectory) yield* files(path);
    else if (entry.isFile) yield path;
  }
}

Deno.test("after exec and credential_process, no plaintext key in TMPDIR, /tmp, $HOME, the XDG dirs or the cwd", async () => {
  // Outside /tmp, so the namespace's own /tmp can hide the machine's without hiding the inputs.
  await Deno.mkdir(`${ROOT}/.scratch`, { recursive: true });
  const root = await Deno.makeTempDir({ dir: `${ROOT}/.scratch`, prefix: "no-plaintext-key-" });
  try {
    const places = ["tmp", "var-tmp", "shm", "home", "cache", "config", "runtime", "cwd"];
    for (const place of places) await Deno.mkdir(`${root}/${place}`, { mode: 0o700 });
    const ca = await makeCa(`${root}/pki`);
    const leaf = await issueLeaf(ca, "leaf", { passphrase: `unique-${crypto.randomUUID()}` });
    const keyDer = async (args: string[]) =>
      Uint8Array.from(
        (await new Deno.Command("openssl", {
          args: [...args, "-in", leaf.key, "-passin", `pass:${leaf.passphrase}`, "-outform", "DER"],
          stdout: "piped",
        }).output()).stdout,
      );
    const der = await keyDer(["pkey"]);
    const rsaDer = await keyDer(["rsa", "-traditional"]);
    await openssl(["pkey", "-in", leaf.key, "-passin", `pass:${leaf.passphrase}`, "-noout"]);
    const env = {
      HOME: `${root}/home`,
      TMPDIR: `${root}/tmp`,
      XDG_CACHE_HOME: `${root}/cache`,
      XDG_CONFIG_HOME: `${root}/config`,
      XDG_RUNTIME_DIR: `${root}/runtime`,
    };
    // Each bind hides the machine's directory behind this test's own, for certrole and the AWS CLI only.
    const privateTemporaries = canUnshareMounts
      ? [
        "unshare",
        "-m",
        "sh",
        "-c",
        'mount --bind "$1/tmp" /tmp && mount --bind "$1/var-tmp" /var/tmp && mount --bind "$1/shm" /dev/shm && ' +
        'shift && exec "$@"',
        "sh",
        root,
      ]
      : [];
    const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
    try {
      const [command, ...args] = [
        ...privateTemporaries,
        ...certroleArgv(),
        "exec",
        "--",
        "/usr/bin/aws",
        "sts",
        "get-caller-identity",
        "--endpoint-url",
        walkthrough.emulator.url,
      ];
      const result = await run(command, args, {
        env: { ...sessionEnv(walkthrough, leaf), ...env },
        cwd: `${root}/cwd`,
      });
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
    const cacheDir = defaultCacheDir((name) => env[name as keyof typeof env]);
    let scanned = 0;
    for (const place of places) {
      for await (const path of files(`${root}/${place}`)) {
        const bytes = await Deno.readFile(path);
        scanned++;
        for (const key of [der, rsaDer, base64]) assert.ok(!contains(bytes, key), `the private key is in ${path}`);
        assert.doesNotMatch(
          new TextDecoder().decode(bytes),
          /-----BEGIN (RSA |EC )?PRIVATE KEY-----/,
          `plaintext PEM key in ${path}`,
        );
        if (path.startsWith(`${cacheDir}/`) && path.endsWith(".json")) continue; // the documented credential cache
        for (const secret of secrets) assert.ok(!contains(bytes, secret), `a secret is in ${path}`);
      }
    }
    // The AWS config exec wrote and the credential cache, at least: the scan saw certrole's files.
    assert.ok(scanned >= 2, `scanned ${scanned} files`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
