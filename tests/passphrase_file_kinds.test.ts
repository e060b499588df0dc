/**
 * A passphrase file that is a FIFO with no writer, a device (/dev/zero) or a directory neither
 * hangs nor reads forever: the key's (ROLESANYWHERE_KEY_PASSPHRASE_FILE, --passphrase-file) and a
 * CA's (pki --passphrase-file) are read through the same bounded input-file reader as
 * certificates and keys, and each is one line naming the setting, exit 1, at once.
 */
import assert from "node:assert/strict";
import { CertroleError } from "../cli/errors.ts";
import { readPassphraseFile } from "../cli/identity/passphrase.ts";
import { MAX_INPUT_FILE_BYTES } from "../cli/identity/input_file.ts";
import { singleCallEnv } from "./support/exec.ts";
import { assertOneLineRefusal } from "./support/hostile_files.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, run, tempDir } from "./support/run.ts";

const dir = await tempDir();
const fifo = `${dir}/passphrase-fifo`;
assert.equal((await run("mkfifo", [fifo])).code, 0);
await Deno.writeTextFile(`${dir}/huge`, "x".repeat(MAX_INPUT_FILE_BYTES + 1));
const KINDS: readonly (readonly [string, RegExp])[] = [
  [fifo, /is not a regular file \(a pipe, socket or device\)/],
  ["/dev/zero", /is not a regular file \(a pipe, socket or device\)/],
  [dir, /is a directory/],
  [`${dir}/huge`, /is \d+ bytes, more than certrole reads/],
];

// In-process only what cannot hang this test process if it regressed; the FIFO and /dev/zero run in a child below.
Deno.test("readPassphraseFile refuses directories and huge files, naming the setting", async () => {
  for (const [path, problem] of KINDS.slice(2)) {
    await assert.rejects(readPassphraseFile(path, "ROLESANYWHERE_KEY_PASSPHRASE_FILE"), (error: unknown) => {
      assert.ok(error instanceof CertroleError, String(error));
      assert.match(error.message, problem);
      assert.match(error.message, /set ROLESANYWHERE_KEY_PASSPHRASE_FILE to /);
      return true;
    });
  }
  await Deno.writeTextFile(`${dir}/ok`, "correct horse\n");
  assert.equal(await readPassphraseFile(`${dir}/ok`, "--passphrase-file"), "correct horse");
});

Deno.test("credential-process and pki init-ca with such a passphrase file: one line, exit 1, no hang", async () => {
  const ca = await makeCa(`${dir}/ca`);
  const leaf = await issueLeaf(ca, "leaf");
  const env = singleCallEnv(leaf, dir, "http://127.0.0.1:9", { passphrase: false });
  for (const [path, problem] of KINDS) {
    const viaEnv = await certrole(["credential-process"], {
      env: { ...env, ROLESANYWHERE_KEY_PASSPHRASE_FILE: path },
      killAfterMs: 15_000,
    });
    assert.equal(viaEnv.killed, false, `${path}: still reading after 15 s`);
    assertOneLineRefusal(viaEnv, problem);
    assert.match(viaEnv.stderr, new RegExp(`^certrole: passphrase (file )?"${path}" [^\\n]*\\n$`));
    const pki = await certrole(["pki", "init-ca", "--cn", "x", "--passphrase-file", path], {
      cwd: await tempDir(),
      killAfterMs: 15_000,
    });
    assert.equal(pki.killed, false, `${path}: pki still reading after 15 s`);
    assertOneLineRefusal(pki, /set --passphrase-file to /);
  }
});
