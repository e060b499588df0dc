/**
 * `--pkcs8-password` (the helper's passphrase-on-argv flag) is refused by the commands that stay
 * running, whose command line /proc/PID/cmdline shows for their whole life: `serve`, `update`
 * (kept fresh) and `exec --supervise` exit 2 with one line naming the environment variable and
 * file alternatives, before reading any file or calling CreateSession. The short-lived
 * `credential-process` and `update --once` still take it, as AWS's helper does.
 */
import assert from "node:assert/strict";
import { OFFLINE_ARNS } from "./support/exec.ts";
import { certrole, tempDir } from "./support/run.ts";

const SECRET = "argv-visible-passphrase";
const dir = await tempDir();
const env = {
  ...OFFLINE_ARNS,
  HOME: dir,
  ROLESANYWHERE_CERT_LOCATION: `${dir}/missing-cert.pem`,
  ROLESANYWHERE_NO_CACHE: "1",
  AWS_MAX_ATTEMPTS: "1",
  // A closed port: reaching CreateSession would fail differently.
  ROLESANYWHERE_ENDPOINT: "http://127.0.0.1:9",
};

for (
  const [args, what] of [
    [["serve", "--listen", "127.0.0.1:0"], "serve"],
    [["update"], "update"],
    [["exec", "--supervise", "--", "true"], "exec --supervise"],
  ] as const
) {
  Deno.test(`certrole ${what} --pkcs8-password: one line pointing to the environment and file alternatives`, async () => {
    const words: readonly string[] = args;
    const at = words.includes("--") ? words.indexOf("--") : words.length;
    const argv = [...words.slice(0, at), "--pkcs8-password", SECRET, ...words.slice(at)];
    const result = await certrole(argv, { env, killAfterMs: 20_000 });
    assert.equal(result.killed, false);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(
      result.stderr,
      `certrole: --pkcs8-password is refused for \`certrole ${what}\`, whose command line stays readable in /proc while it runs: give the passphrase in ROLESANYWHERE_KEY_PASSPHRASE_FILE (or --passphrase-file, ROLESANYWHERE_KEY_PASSPHRASE)\n`,
    );
    assert.ok(!result.stderr.includes(SECRET));
  });
}

Deno.test("ROLESANYWHERE_SUPERVISE=true exec --pkcs8-password is refused the same way", async () => {
  const result = await certrole(["exec", "--pkcs8-password", SECRET, "--", "true"], {
    env: { ...env, ROLESANYWHERE_SUPERVISE: "true" },
    killAfterMs: 20_000,
  });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^certrole: --pkcs8-password is refused for `certrole exec --supervise`/);
});

Deno.test("short-lived commands still take --pkcs8-password (they get as far as reading the certificate)", async () => {
  for (const args of [["credential-process"], ["update", "--once"]]) {
    const result = await certrole([...args, "--pkcs8-password", SECRET], { env, killAfterMs: 20_000 });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /missing-cert\.pem/);
  }
});
