/**
 * What certrole's TLS trusts, as AWS's Go helper, curl and OpenSSL do: a CA added to the system
 * bundle (/etc/ssl/certs/ca-certificates.crt, checked by bind-mounting a bundle over it in a
 * private mount namespace), SSL_CERT_FILE instead of the bundle (a corporate bundle used to end
 * in UnknownIssuer), SSL_CERT_DIR instead of the directories, AWS_CA_BUNDLE on top; malformed
 * certificates and OpenSSL's hash links in a directory are skipped, as Go skips them.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa, tlsServer } from "./support/pki.ts";
import { baseEnv, certroleArgv, tempDir } from "./support/run.ts";
import { CERT_FILES, trustedCertificates } from "../cli/transport/trust_store.ts";
import { canUnshareMounts } from "./support/read_only_root.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
const caPem = await Deno.readTextFile(ca.cert);
const serverTls = await tlsServer(`${dir}/tls-a`, "server CA A");
const otherTls = await tlsServer(`${dir}/tls-b`, "unrelated CA B");
const SYSTEM_BUNDLE = CERT_FILES[0];

/** The tests' environment without any trust setting of this machine (they would hide what is tested). */
function untrustingEnv(): Record<string, string> {
  const env = baseEnv();
  for (const name of ["SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "DENO_CERT", "DENO_TLS_CA_STORE"]) {
    delete env[name];
  }
  return env;
}

/**
 * credential-process against the emulator over TLS (certificate from CA A), in a private mount
 * namespace where `bundle` is bind-mounted over the system bundle when given.
 */
async function fetchOverTls(env: Record<string, string>, bundle?: string) {
  const walkthrough = await startWalkthrough(caPem, { tls: serverTls });
  try {
    const mount = bundle ? `mount --bind ${bundle} ${SYSTEM_BUNDLE} && ` : "";
    const output = await new Deno.Command("unshare", {
      args: ["-m", "sh", "-c", `${mount}exec "$@"`, "sh", ...certroleArgv(), "credential-process", "--no-cache"],
      clearEnv: true,
      env: { ...untrustingEnv(), ...sessionEnv(walkthrough, leaf), AWS_MAX_ATTEMPTS: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
  } finally {
    await walkthrough.emulator.close();
  }
}

async function bundleWith(name: string, ...pems: string[]): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, pems.join("\n"));
  return path;
}

const system = await Deno.readTextFile(SYSTEM_BUNDLE).catch(() => "");
const caA = await Deno.readTextFile(serverTls.ca);
const caB = await Deno.readTextFile(otherTls.ca);

Deno.test("without any setting, a CA in the system bundle is trusted; without it, UnknownIssuer", {
  ignore: !canUnshareMounts,
}, async () => {
  const untrusted = await fetchOverTls({});
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /TLS verification of localhost:\d+ failed .*UnknownIssuer/);
  const trusted = await fetchOverTls({}, await bundleWith("system-plus-a.crt", system, caA));
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal(JSON.parse(trusted.stdout).Version, 1);
});

Deno.test("SSL_CERT_FILE names the bundle instead of the system's; AWS_CA_BUNDLE still adds", {
  ignore: !canUnshareMounts,
}, async () => {
  const emptyDir = await Deno.makeTempDir();
  const corporate = await bundleWith("corporate.pem", caA);
  const onlyFile = await fetchOverTls({ SSL_CERT_FILE: corporate });
  assert.equal(onlyFile.code, 0, onlyFile.stderr);
  // With SSL_CERT_DIR empty too, the system bundle (holding CA A here) is not read at all.
  const elsewhere = await fetchOverTls(
    { SSL_CERT_FILE: await bundleWith("other.pem", caB), SSL_CERT_DIR: emptyDir },
    await bundleWith("system-plus-a-2.crt", system, caA),
  );
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.stderr, /UnknownIssuer/);
  const added = await fetchOverTls({
    SSL_CERT_FILE: await bundleWith("other-2.pem", caB),
    SSL_CERT_DIR: emptyDir,
    AWS_CA_BUNDLE: serverTls.ca,
  });
  assert.equal(added.code, 0, added.stderr);
});

Deno.test("SSL_CERT_DIR names the directories (colon-separated) instead of the system's", {
  ignore: !canUnshareMounts,
}, async () => {
  const first = await Deno.makeTempDir();
  const second = await Deno.makeTempDir();
  await Deno.writeTextFile(`${second}/corporate-root.pem`, caA);
  const result = await fetchOverTls({ SSL_CERT_FILE: `${dir}/none.pem`, SSL_CERT_DIR: `${first}:${second}` });
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("the system store as Go reads it: one bundle file, every directory file, each certificate once, junk skipped", async () => {
  const files = await Deno.makeTempDir();
  await Deno.writeTextFile(`${files}/a.pem`, caA);
  await Deno.writeTextFile(
    `${files}/b.pem`,
    `junk before\n${caB}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
  );
  await Deno.writeTextFile(`${files}/bundle.crt`, caA + caB); // the same two again
  await Deno.symlink("a.pem", `${files}/0123abcd.0`); // an OpenSSL hash link (skipped, as Go skips it)
  await Deno.symlink(ca.cert, `${files}/linked.pem`); // a link out of the directory: read
  await Deno.writeTextFile(`${files}/notes.txt`, "not a certificate");
  const notes: string[] = [];
  const env = (values: Record<string, string>) => (name: string) => values[name];
  const found = await trustedCertificates(
    env({ SSL_CERT_FILE: `${files}/bundle.crt`, SSL_CERT_DIR: files }),
    (line) => notes.push(line),
  );
  assert.equal(found.length, 3, "each certificate once");
  const body = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s+/g, "");
  assert.ok(found.some((pem) => body(pem) === body(caPem)), "the linked file's certificate");
  assert.ok(
    notes.some((line) => /skipping a certificate in .*b\.pem: not a well-formed X\.509 certificate/.test(line)),
  );
  const missing = await trustedCertificates(
    env({ SSL_CERT_FILE: `${files}/none.pem`, SSL_CERT_DIR: `${files}/none` }),
    () => {},
  );
  assert.deepEqual(missing, [], "missing files and directories are skipped, as Go skips them");
  await assert.rejects(
    trustedCertificates(env({ SSL_CERT_FILE: `${files}/none.pem`, AWS_CA_BUNDLE: `${files}/notes.txt` }), () => {}),
    /AWS_CA_BUNDLE file ".*notes\.txt" holds no PEM certificate/,
  );
});
