/**
 * On a terminal, `certrole pki` asks for passphrases with echo off: twice for a new key (and
 * refuses when the two differ), once for the CA key it opens; backspace edits, Ctrl-C aborts
 * without writing. The keys written open in openssl with what was typed.
 */
import assert from "node:assert/strict";
import { certroleArgv, openssl, tempDir } from "./support/run.ts";
import { runInTerminal } from "./support/terminal.ts";

const certrole = (...args: string[]) => [...certroleArgv(), ...args];

Deno.test("init-ca asks twice without echo; the key opens with the typed passphrase", async () => {
  const dir = await tempDir();
  const result = await runInTerminal(certrole("pki", "init-ca", "--cn", "myPrivateCA", "--key-type", "ec-p256"), [
    { expect: "New passphrase for CA key ca-key\\.pem: ", send: "typed-secreX\x7ft\r" },
    { expect: "Repeat the passphrase for CA key ca-key\\.pem: ", send: "typed-secret\r" },
  ], { cwd: dir });
  assert.equal(result.code, 0, result.screen);
  assert.doesNotMatch(result.screen, /typed-secre/, "nothing typed is echoed");
  assert.match(result.screen, /encrypted \(passphrase from the terminal\)/);
  await openssl(["pkey", "-in", `${dir}/ca-key.pem`, "-passin", "pass:typed-secret", "-noout"]);
});

Deno.test("init-ca: two different passphrases, or Ctrl-C, write nothing", async () => {
  const dir = await tempDir();
  const mismatch = await runInTerminal(certrole("pki", "init-ca", "--cn", "myPrivateCA", "--key-type", "ec-p256"), [
    { expect: "New passphrase", send: "one\r" },
    { expect: "Repeat the passphrase", send: "two\r" },
  ], { cwd: dir });
  assert.equal(mismatch.code, 1, mismatch.screen);
  assert.match(mismatch.screen, /certrole: the two passphrases differ: nothing was written, run it again/);
  const interrupted = await runInTerminal(certrole("pki", "init-ca", "--cn", "myPrivateCA", "--key-type", "ec-p256"), [
    { expect: "New passphrase", send: "abc\x03" },
  ], { cwd: dir });
  assert.equal(interrupted.code, 130, interrupted.screen);
  assert.match(interrupted.screen, /certrole: interrupted at the passphrase prompt: nothing was written/);
  assert.deepEqual([...Deno.readDirSync(dir)], []);
});

Deno.test("issue asks for the CA key's passphrase once, then the new key's twice", async () => {
  const dir = await tempDir();
  const init = await runInTerminal(certrole("pki", "init-ca", "--cn", "myPrivateCA", "--key-type", "ec-p256"), [
    { expect: "New passphrase", send: "ca-typed\r" },
    { expect: "Repeat", send: "ca-typed\r" },
  ], { cwd: dir });
  assert.equal(init.code, 0, init.screen);
  const issue = await runInTerminal(certrole("pki", "issue", "--cn", "myContainer"), [
    { expect: "Passphrase for CA private key ca-key\\.pem: ", send: "ca-typed\r" },
    { expect: "New passphrase for key key\\.pem: ", send: "leaf-typed\r" },
    { expect: "Repeat the passphrase for key key\\.pem: ", send: "leaf-typed\r" },
  ], { cwd: dir });
  assert.equal(issue.code, 0, issue.screen);
  assert.doesNotMatch(issue.screen, /ca-typed|leaf-typed/);
  await openssl(["pkey", "-in", `${dir}/key.pem`, "-passin", "pass:leaf-typed", "-noout"]);
  assert.equal(await openssl(["verify", "-CAfile", "ca-cert.pem", "cert.pem"], { cwd: dir }), "cert.pem: OK\n");

  const wrong = await runInTerminal(
    certrole("pki", "issue", "--cn", "again", "--cert-out", "again.pem", "--key-out", "again-key.pem"),
    [
      { expect: "Passphrase for CA private key", send: "not-it\r" },
    ],
    { cwd: dir },
  );
  assert.equal(wrong.code, 1, wrong.screen);
  assert.match(
    wrong.screen,
    /certrole: wrong passphrase for CA private key file "ca-key\.pem" \(passphrase from the terminal\)/,
  );
});
