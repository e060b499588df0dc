/**
 * Every command has help with worked examples; unknown commands and flags are one-line usage errors
 * (exit 2), flags named like JavaScript object properties included; AWS's helper's flags for key
 * stores get one line saying what certrole takes instead (read-certificate-data too), and
 * --system-store-name is ignored; the image commands are listed apart, each saying who it is for.
 * The per-command and per-flag cases run in-process (main() and the session settings); one
 * certrole process per behaviour proves the exit code and what reaches stdout and stderr.
 */
import assert from "node:assert/strict";
import { command as credentialProcess } from "../cli/commands/credential_process.ts";
import { command as exec } from "../cli/commands/exec.ts";
import { CertroleError } from "../cli/errors.ts";
import { parseFlags } from "../cli/flags.ts";
import { main } from "../cli/main.ts";
import { sessionSettingsFrom } from "../cli/session_settings.ts";
import { certrole } from "./support/run.ts";

/** certrole's main() as the process runs it, with stdout captured (help returns before any command runs). */
async function mainOutput(argv: string[]): Promise<{ code: number; stdout: string }> {
  const original = Deno.stdout.writeSync;
  let stdout = "";
  const capture = (bytes: Uint8Array) => {
    stdout += new TextDecoder().decode(bytes);
    return bytes.length;
  };
  Object.defineProperty(Deno.stdout, "writeSync", { configurable: true, writable: true, value: capture });
  try {
    return { code: await main(argv), stdout };
  } finally {
    Object.defineProperty(Deno.stdout, "writeSync", { configurable: true, writable: true, value: original });
  }
}

Deno.test("certrole --help lists the commands, and each command's --help, -h and `help COMMAND` has flags and examples", async () => {
  const overview = await mainOutput(["--help"]);
  assert.equal(overview.code, 0);
  const listed = overview.stdout.slice(overview.stdout.indexOf("Commands:\n")).split("\n\n")[0];
  const commands = [...listed.matchAll(/^ {2}(\S+(?: [a-z-]+)?) {2,}/gm)].map((match) => match[1]);
  assert.ok(commands.includes("credential-process") && commands.includes("exec"), overview.stdout);
  for (const name of commands) {
    const help = await mainOutput([...name.split(" "), "--help"]);
    assert.equal(help.code, 0, name);
    assert.match(help.stdout, new RegExp(`^certrole ${name}: `));
    assert.match(help.stdout, /\nUsage: certrole /);
    assert.match(help.stdout, /\nFlags:\n {2}\S/, `${name} has flags`);
    assert.match(help.stdout, /\nExamples:\n {2}\S/, `${name} has examples`);
    assert.equal((await mainOutput(["help", ...name.split(" ")])).stdout, help.stdout);
    assert.equal((await mainOutput([...name.split(" "), "-h"])).stdout, help.stdout);
  }
  // The process prints the same pages, exit 0.
  const [processOverview, processHelp] = await Promise.all([certrole(["--help"]), certrole(["help", "pki", "issue"])]);
  assert.equal(processOverview.code, 0);
  assert.equal(processOverview.stdout, overview.stdout);
  assert.equal(processHelp.code, 0);
  assert.equal(processHelp.stdout, (await mainOutput(["pki", "issue", "--help"])).stdout);
});

Deno.test("--help lists the image commands apart from the credential commands, saying who each is for", async () => {
  const { stdout } = await certrole(["--help"]);
  const [commands, images] = stdout.split(/\n\nImages \(run in certrole's source tree[^\n]*\n/);
  assert.ok(images, stdout);
  assert.doesNotMatch(commands, /^ {2}image /m, "no image command among the credential commands");
  assert.match(images, /^ {2}image dockerfile +for your own base image: /m);
  assert.match(images, /^ {2}image render +for certrole's maintainers: /m);
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

// tests/flag_parsing.test.ts has the other Object property names, in-process.
Deno.test("flags named like Object properties are unknown flags, not values", async () => {
  const result = await certrole(["version", "--__proto__", "x"]);
  assert.equal(result.code, 2, result.stdout);
  assert.equal(result.stderr, "certrole: unknown flag --__proto__ for `certrole version`: see --help\n");
});

const KEY_STORE_CASES = [
  [["--cert-selector", "Key=x509Subject,Value=CN=x"], "certificate stores \\(Windows, macOS Keychain\\) are"],
  [["--use-latest-expiring-certificate"], "certificate stores \\(Windows, macOS Keychain\\) are"],
  [["--pkcs11-lib", "/usr/lib/opensc-pkcs11.so"], "PKCS#11 tokens are"],
  [["--reuse-pin"], "PKCS#11 tokens are"],
  [["--tpm-key-password", "tpm-secret"], "TPM keys are"],
  [["--no-tpm-key-password"], "TPM keys are"],
  [["--certificate", "pkcs11:token=piv;object=cert"], "PKCS#11 tokens are"],
  [["--certificate", "/c.pem", "--private-key", "handle:0x81000001"], "TPM keys are"],
] as const;

const insteadOfStore = (store: string) =>
  new RegExp(`${store} not supported: give the certificate and key as files with --certificate and --private-key`);

Deno.test("AWS's helper's key-store flags: one line on what certrole takes instead, for credential-process and exec", () => {
  const noEnv = () => undefined;
  for (const { flags, name } of [credentialProcess, exec]) {
    for (const [args, store] of KEY_STORE_CASES) {
      assert.throws(() => sessionSettingsFrom(parseFlags(args, flags, noEnv, { command: name }), noEnv), (error) => {
        assert.ok(error instanceof CertroleError, String(error));
        assert.equal(error.exitCode, 2, `${name} ${args.join(" ")}`);
        assert.match(error.message, insteadOfStore(store));
        assert.doesNotMatch(error.message, /tpm-secret|\n/, "no secret echoed, one line");
        return true;
      });
    }
  }
});

Deno.test("a key-store flag as the process sees it: exit 2, one line, the secret not echoed; --system-store-name is ignored", async () => {
  const result = await certrole(["exec", "--tpm-key-password", "tpm-secret"]);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, "");
  assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
  assert.match(result.stderr, insteadOfStore("TPM keys are"));
  assert.doesNotMatch(result.stderr, /tpm-secret/, "no secret echoed");
  const ignored = await certrole(["credential-process", "--system-store-name", "MY", "--debug"]);
  assert.match(ignored.stderr, /certrole debug: --system-store-name names a Windows certificate store; ignored/);
  assert.match(ignored.stderr, /missing settings: --certificate/, "then the usual checks");
  const help = await mainOutput(["credential-process", "--help"]);
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
