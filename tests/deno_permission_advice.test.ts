/**
 * Deno's advice to a program's author ("run again with the --allow-all flag") never reaches
 * certrole's users, who cannot change the permissions certrole runs with: a path Deno refuses
 * without --allow-all (/dev/stdin, /proc/self/fd/N, /dev/fd/N, /proc/...) given as a passphrase
 * file, key, bundle or output file is a one-line error naming it and saying to use a regular
 * file, exit 1, never an internal error.
 */
import assert from "node:assert/strict";
import { messageOf, runtimeRefusal } from "../cli/errors.ts";
import { singleCallEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
const env = singleCallEnv(leaf, dir, "http://127.0.0.1:9", { passphrase: false });

function assertNoDenoAdvice(stderr: string, path: string): void {
  assert.doesNotMatch(stderr, /--allow|run again|internal error/, stderr);
  assert.match(stderr, /^certrole: [^\n]*\n$/, stderr);
  assert.ok(stderr.includes(`"${path}" is not opened: certrole runs without access to /proc, /dev/fd`), stderr);
  assert.match(stderr, /use a regular file/);
}

Deno.test("Deno's refusal messages are said as certrole's, other messages pass through", () => {
  const deno = new Error('Requires all access to "/dev/stdin", run again with the --allow-all flag');
  assert.equal(
    messageOf(deno),
    '"/dev/stdin" is not opened: certrole runs without access to /proc, /dev/fd, /dev/stdin and memory devices; ' +
      "use a regular file",
  );
  assert.equal(
    runtimeRefusal('Requires net access to "example.com:443", run again with the --allow-net flag'),
    'certrole runs without net access to "example.com:443"',
  );
  assert.equal(messageOf(new Error("Permission denied (os error 13)")), "Permission denied (os error 13)");
});

Deno.test("passphrase file, key and intermediates at /dev/stdin or /proc/self/fd/0: one line, no Deno advice", async () => {
  for (
    const [extra, path] of [
      [{ ROLESANYWHERE_KEY_PASSPHRASE_FILE: "/dev/stdin" }, "/dev/stdin"],
      [{ ROLESANYWHERE_KEY_LOCATION: "/proc/self/fd/0", ROLESANYWHERE_KEY_PASSPHRASE: "x" }, "/proc/self/fd/0"],
      [
        { ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!, ROLESANYWHERE_INTERMEDIATES_LOCATION: "/dev/stdin" },
        "/dev/stdin",
      ],
    ] as const
  ) {
    const result = await certrole(["credential-process"], { env: { ...env, ...extra }, stdin: "pass\n" });
    assert.equal(result.code, 1, result.stderr);
    assertNoDenoAdvice(result.stderr, path);
  }
});

Deno.test("pki issue --key-out /dev/fd/2: one line, no Deno advice, no internal error", async () => {
  const out = await tempDir();
  const result = await certrole(
    [
      "pki",
      "issue",
      "--cn",
      "x",
      "--no-passphrase",
      "--ca-cert",
      ca.cert,
      "--ca-key",
      ca.key,
      "--key-out",
      "/dev/fd/2",
    ],
    { cwd: out, env: { CERTROLE_CA_PASSPHRASE: ca.passphrase! } },
  );
  assert.equal(result.code, 1, result.stderr);
  assertNoDenoAdvice(result.stderr, "/dev/fd/2");
});
