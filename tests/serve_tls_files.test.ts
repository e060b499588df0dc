/**
 * `certrole serve`'s TLS certificate and key files are read like every other input file: a FIFO
 * (which would block forever), /dev/zero (which never ends), a directory, a file over 1 MiB, a
 * missing path and a file with no PEM block each end serve at start with exit 1 and one line naming
 * the file and the setting to fix, never a hang, a runaway read or a stack trace.
 */
import assert from "node:assert/strict";
import { MAX_INPUT_FILE_BYTES } from "../cli/identity/input_file.ts";
import { OFFLINE_ARNS } from "./support/exec.ts";
import { assertOneLineRefusal } from "./support/hostile_files.ts";
import { certroleArgv, run, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole-serve-tls-files-");
const fifo = `${dir}/fifo`;
assert.equal((await run("mkfifo", [fifo])).code, 0);
await Deno.mkdir(`${dir}/a-directory`);
await Deno.writeTextFile(`${dir}/notes.txt`, "not a PEM file\n");
await Deno.writeFile(`${dir}/huge.pem`, new Uint8Array(MAX_INPUT_FILE_BYTES + 1).fill(0x41));
// Well-formed enough for the TLS check, which comes before any use of them (no network call is made).
const pem = `${dir}/pem`;
await Deno.writeTextFile(pem, "-----BEGIN CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n");

const SESSION = {
  ROLESANYWHERE_CERT_LOCATION: `${dir}/unused-cert.pem`,
  ...OFFLINE_ARNS,
  ROLESANYWHERE_CACHE_DIR: `${dir}/cache`,
};

/**
 * serve with a data limit of 2 GB, so that reading /dev/zero without a bound fails in a second
 * instead of taking the machine's memory, and killed after 20 s, so that a FIFO fails the test.
 */
function serve(flag: "--tls-cert" | "--tls-key", path: string) {
  return run("sh", [
    "-c",
    'ulimit -d 2000000 && exec "$@"',
    "sh",
    ...certroleArgv(),
    ...["serve", "--port", "0", "--token-file", `${dir}/token`],
    ...["--tls-cert", flag === "--tls-cert" ? path : pem],
    ...["--tls-key", flag === "--tls-key" ? path : pem],
  ], { env: SESSION, killAfterMs: 20_000 });
}

const CASES: ReadonlyArray<[string, string, RegExp]> = [
  ["a FIFO", fifo, /"[^"]*\/fifo" is not a regular file \(a pipe, socket or device\)/],
  ["/dev/zero", "/dev/zero", /"\/dev\/zero" is not a regular file/],
  ["a directory", `${dir}/a-directory`, /"[^"]*\/a-directory" is a directory/],
  ["a file over 1 MiB", `${dir}/huge.pem`, /is 1048577 bytes, more than certrole reads \(1048576\)/],
  ["a missing path", `${dir}/missing.pem`, /"[^"]*\/missing\.pem" does not exist/],
  ["a file with no PEM block", `${dir}/notes.txt`, /"[^"]*\/notes\.txt" holds no PEM /],
];

for (const flag of ["--tls-cert", "--tls-key"] as const) {
  const [what, variable] = flag === "--tls-cert"
    ? ["TLS certificate", "ROLESANYWHERE_TLS_CERT"]
    : ["TLS private key", "ROLESANYWHERE_TLS_KEY"];
  for (const [label, path, message] of CASES) {
    Deno.test(`serve ${flag} ${label}: one line naming the file and the setting, exit 1`, async () => {
      const result = await serve(flag, path);
      assert.equal(result.killed, false, `still running after 20 s: ${result.stderr}`);
      const line = assertOneLineRefusal(result, message);
      assert.match(line, new RegExp(`^certrole: ${what} `));
      assert.match(line, new RegExp(`${flag} or ${variable}`));
    });
  }
}

Deno.test("remove the scratch directory", async () => {
  await Deno.remove(dir, { recursive: true });
});
