/**
 * Every command has help with worked examples; unknown commands and flags are one-line usage errors
 * (exit 2), flags named like JavaScript object properties included; AWS's helper's flags for key
 * stores get one line saying what certrole takes instead (read-certificate-data too), and
 * --system-store-name is ignored.
 */
import assert from "node:assert/strict";
import { certrole } from "./support/run.ts";

Deno.test("certrole --help lists the commands, and each command's --help has flags and examples", async () => {
  const overview = await certrole(["--help"]);
  assert.equal(overview.code, 0);
  const listed = overview.stdout.slice(overview.stdout.indexOf("Commands:\n")).split("\n\n")[0];
  const commands = [...listed.matchAll(/^ {2}(\S+(?: [a-z-]+)?) {2,}/gm)].map((match) => match[1]);
  assert.ok(commands.includes("credential-process") && commands.includes("exec"), overview.stdout);
  for (const name of commands) {
    const help = await certrole([...name.split(" "), "--help"]);
    assert.equal(help.code, 0, `${name}: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^certrole ${name}: `));
    assert.match(help.stdout, /\nUsage: certrole /);
    assert.match(help.stdout, /\nExamples:\n {2}\S/, `${name} has examples`);
    const viaHelp = await certrole(["help", ...name.split(" ")]);
    assert.equal(viaHelp.stdout, help.stdout);
  }
});

Deno.test("unknown commands and flags, and missing flag values, are usage errors", async () => {
  const unknown = await certrole(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, 'certrole: unknown command "frobnicate": see certrole --help\n');
  const flag = await certrole(["read-certificate-data", "--cert", "x"]);
  assert.equal(flag.code, 2);
  assert.equal(flag.stderr, "certrole: unknown flag --cert for `certrole read-certificate-data`: see --help\n");
  const value = await certrole(["read-certificate-data", "--certificate"]);
  assert.equal(value.code, 2);
  assert.equal(value.stderr, "certrole: --certificate needs a value for `certrole read-certificate-data`\n");
  const version = await certrole(["version"]);
  assert.match(version.stdout, /^certrole \d+\.\d+\.\d+ \(deno 2\.9\.6\)\n$/);
});

Deno.test("flags named like Object properties are unknown flags, not values", async () => {
  for (const flag of ["--toString", "--constructor", "--__proto__", "--hasOwnProperty", "--valueOf"]) {
    const result = await certrole(["version", flag, "x"]);
    assert.equal(result.code, 2, `${flag}: ${result.stdout}`);
    assert.equal(result.stderr, `certrole: unknown flag ${flag} for \`certrole version\`: see --help\n`);
  }
  const negated = await certrole(["credential-process", "--no-toString"]);
  assert.equal(negated.stderr, "certrole: unknown flag --no-toString for `certrole credential-process`: see --help\n");
});

Deno.test("AWS's helper's key-store flags: one line on what certrole takes instead; --system-store-name is ignored", async () => {
  for (
    const [args, store] of [
      [["--cert-selector", "Key=x509Subject,Value=CN=x"], "certificate stores \\(Windows, macOS Keychain\\)"],
      [["--use-latest-expiring-certificate"], "certificate stores \\(Windows, macOS Keychain\\)"],
      [["--pkcs11-lib", "/usr/lib/opensc-pkcs11.so"], "PKCS#11 tokens"],
      [["--reuse-pin"], "PKCS#11 tokens"],
      [["--tpm-key-password", "tpm-secret"], "TPM keys"],
      [["--no-tpm-key-password"], "TPM keys"],
      [["--certificate", "pkcs11:token=piv;object=cert"], "PKCS#11 tokens"],
      [["--certificate", "/c.pem", "--private-key", "handle:0x81000001"], "TPM keys"],
    ] as const
  ) {
    for (const command of ["credential-process", "exec"]) {
      const result = await certrole([command, ...args]);
      assert.equal(result.code, 2, `${command} ${args.join(" ")}: ${result.stderr}`);
      const lines = result.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(
        lines[0],
        new RegExp(
          `${
            store.replace("#", "\\#")
          } (are|is) not supported: give the certificate and key as files with --certificate and --private-key`,
        ),
      );
      assert.doesNotMatch(result.stderr, /tpm-secret/, "no secret echoed");
    }
  }
  const ignored = await certrole(["credential-process", "--system-store-name", "MY", "--debug"]);
  assert.match(ignored.stderr, /certrole debug: --system-store-name names a Windows certificate store; ignored/);
  assert.match(ignored.stderr, /missing settings: --certificate/, "then the usual checks");
  const help = await certrole(["credential-process", "--help"]);
  assert.doesNotMatch(help.stdout, /pkcs11|tpm|system-store/, "not advertised in --help");
});

Deno.test("read-certificate-data takes the helper's store flags of that command and says what certrole reads instead", async () => {
  for (
    const args of [
      ["--cert-selector", "Key=x509Subject,Value=CN=x"],
      ["--use-latest-expiring-certificate"],
      ["--certificate", "pkcs11:token=piv;object=cert"],
    ]
  ) {
    const result = await certrole(["read-certificate-data", ...args]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(
      result.stderr,
      /^certrole: [^\n]*(certificate stores \(Windows, macOS Keychain\)|PKCS#11 tokens) are not supported: give the certificate as a file with --certificate \(PEM or DER\)\n$/,
    );
  }
  const ignored = await certrole(["read-certificate-data", "--system-store-name", "MY", "--debug"]);
  assert.match(ignored.stderr, /certrole debug: --system-store-name names a Windows certificate store; ignored/);
  assert.match(ignored.stderr, /missing settings: --certificate/);
  const help = await certrole(["read-certificate-data", "--help"]);
  assert.doesNotMatch(help.stdout, /selector|system-store|latest-expiring|--debug/, "not advertised in --help");
});
