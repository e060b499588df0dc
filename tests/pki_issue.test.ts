/**
 * `certrole pki issue` makes end-entity certificates openssl verifies against the CA (`openssl
 * verify -CAfile`), with the extensions Roles Anywhere requires, random positive serials, the
 * asked validity and SANs, and keys `openssl pkey -passin` opens with the leaf passphrase (not
 * the CA's). It signs openssl's CSRs and works from a CA openssl made (the walkthrough's
 * `genrsa -aes256` key). Refusals are one line and write nothing.
 */
import assert from "node:assert/strict";
import { makeCa } from "./support/pki.ts";
import { certrole, openssl, tempDir } from "./support/run.ts";

const CA_PASS = "ca passphrase";
const KEY_PASS = "leaf passphrase";
const ENV = { CERTROLE_CA_PASSPHRASE: CA_PASS, ROLESANYWHERE_KEY_PASSPHRASE: KEY_PASS };

/** A directory with a certrole CA in it (ca-cert.pem, ca-key.pem). */
async function caDir(keyType = "rsa-2048", days = "1095"): Promise<string> {
  const dir = await tempDir();
  const result = await certrole(["pki", "init-ca", "--cn", "myPrivateCA", "--key-type", keyType, "--days", days], {
    cwd: dir,
    env: ENV,
  });
  assert.equal(result.code, 0, result.stderr);
  return dir;
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

Deno.test("default issue: v3 leaf openssl verifies, encrypted key that opens with the leaf passphrase only", async () => {
  const dir = await caDir();
  const before = Date.now();
  const result = await certrole(["pki", "issue", "--cn", "myContainer"], { cwd: dir, env: ENV });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^Wrote key\.pem: RSA-2048 private key, encrypted \(passphrase from ROLESANYWHERE_KEY_PASSPHRASE\), mode 0600$/m,
  );
  assert.match(
    result.stdout,
    /^Wrote cert\.pem: certificate "CN=myContainer" issued by "CN=myPrivateCA", serial \d+$/m,
  );
  assert.doesNotMatch(result.stdout + result.stderr, /passphrase"|ca passphrase|leaf passphrase/);
  assert.equal(((await Deno.stat(`${dir}/key.pem`)).mode! & 0o777).toString(8), "600");

  assert.equal(await openssl(["verify", "-CAfile", "ca-cert.pem", "cert.pem"], { cwd: dir }), "cert.pem: OK\n");
  const text = await openssl(["x509", "-in", `${dir}/cert.pem`, "-noout", "-text"]);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Subject: CN = myContainer\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(text, /X509v3 Subject Key Identifier/);
  assert.doesNotMatch(text, /Extended Key Usage|Subject Alternative Name/);
  const caText = await openssl(["x509", "-in", `${dir}/ca-cert.pem`, "-noout", "-text"]);
  const caSki = caText.match(/Subject Key Identifier: \n\s+([0-9A-F:]+)/)![1];
  assert.match(text, new RegExp(`Authority Key Identifier: \\n\\s+(keyid:)?${caSki}`));

  // Serial: positive, at most 20 bytes.
  const serialHex = (await openssl(["x509", "-in", `${dir}/cert.pem`, "-noout", "-serial"])).trim().split("=")[1];
  assert.ok(serialHex.length <= 40 && BigInt(`0x${serialHex}`) > 0n, serialHex);
  assert.ok(result.stdout.includes(`serial ${BigInt(`0x${serialHex}`)}`));

  // Validity: one day from now (set back a few minutes for clock skew).
  const dates = await openssl(["x509", "-in", `${dir}/cert.pem`, "-noout", "-startdate", "-enddate"]);
  const [start, end] = [...dates.matchAll(/=(.*)\n/g)].map((match) => new Date(match[1]).getTime());
  assert.ok(Math.abs(end - before - 86_400_000) < 60_000, `notAfter ≈ now + 1 day: ${dates}`);
  assert.ok(start <= before && before - start <= 6 * 60_000, `notBefore a few minutes back: ${dates}`);

  assert.match(await Deno.readTextFile(`${dir}/key.pem`), /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  assert.equal(
    await openssl(["pkey", "-in", `${dir}/key.pem`, "-passin", "env:PASS", "-pubout"], { env: { PASS: KEY_PASS } }),
    await openssl(["x509", "-in", `${dir}/cert.pem`, "-noout", "-pubkey"]),
  );
  await assert.rejects(
    openssl(["pkey", "-in", `${dir}/key.pem`, "-passin", "env:PASS", "-noout"], { env: { PASS: CA_PASS } }),
  );

  const second = await certrole([
    "pki",
    "issue",
    "--cn",
    "myContainer",
    "--cert-out",
    "two.pem",
    "--key-out",
    "two-key.pem",
  ], {
    cwd: dir,
    env: ENV,
  });
  assert.equal(second.code, 0, second.stderr);
  const serialTwo = (await openssl(["x509", "-in", `${dir}/two.pem`, "-noout", "-serial"])).trim();
  assert.notEqual(serialTwo, `serial=${serialHex}`, "every certificate gets a fresh serial");
});

Deno.test("--hours, --client-auth, SANs, EC keys; an EC P-384 CA signs with ecdsa-with-SHA384", async () => {
  const dir = await caDir("ec-p384");
  const before = Date.now();
  const result = await certrole([
    "pki",
    "issue",
    "--cn",
    "myContainer",
    "--org",
    "Example",
    "--hours",
    "8",
    "--client-auth",
    "--key-type",
    "ec-p256",
    "--dns",
    "my-container.example.com",
    "--dns",
    "*.apps.example.com",
    "--uri",
    "spiffe://example.com/ns/prod/sa/myContainer",
    "--email",
    "platform@example.com",
    "--no-passphrase",
    "--json",
  ], { cwd: dir, env: { CERTROLE_CA_PASSPHRASE: CA_PASS } });
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.subject, "CN=myContainer,O=Example");
  assert.equal(summary.keyType, "ec-p256");
  assert.equal(summary.keyEncrypted, false);
  assert.ok(Math.abs(Date.parse(summary.notAfter) - before - 8 * 3_600_000) < 60_000, summary.notAfter);
  assert.equal(await openssl(["verify", "-CAfile", "ca-cert.pem", "cert.pem"], { cwd: dir }), "cert.pem: OK\n");
  const text = await openssl(["x509", "-in", `${dir}/cert.pem`, "-noout", "-text"]);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA384/);
  assert.match(text, /NIST CURVE: P-256/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
  assert.match(
    text,
    /X509v3 Subject Alternative Name: \n\s+DNS:my-container\.example\.com, DNS:\*\.apps\.example\.com, URI:spiffe:\/\/example\.com\/ns\/prod\/sa\/myContainer, email:platform@example\.com\n/,
  );
  assert.match(await Deno.readTextFile(`${dir}/key.pem`), /^-----BEGIN PRIVATE KEY-----\n/);
  const check = await certrole(["pki", "check", "--ca", "ca-cert.pem", "--cert", "cert.pem", "--key", "key.pem"], {
    cwd: dir,
  });
  assert.equal(check.code, 0, check.stdout);
});

Deno.test("--csr signs the walkthrough's openssl request; its key stays with openssl", async () => {
  const dir = await caDir();
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-days",
    "1",
    "-keyout",
    "key.pem",
    "-passout",
    "pass:openssl leaf",
    "-out",
    "csr.pem",
    "-subj",
    "/CN=myContainer",
  ], { cwd: dir });
  const result = await certrole(["pki", "issue", "--csr", "csr.pem"], {
    cwd: dir,
    env: { CERTROLE_CA_PASSPHRASE: CA_PASS },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout, /Wrote key/);
  assert.equal(await openssl(["verify", "-CAfile", "ca-cert.pem", "cert.pem"], { cwd: dir }), "cert.pem: OK\n");
  assert.match(await openssl(["x509", "-in", `${dir}/cert.pem`, "-noout", "-subject"]), /subject=CN = myContainer/);
  assert.equal(
    await openssl(["pkey", "-in", `${dir}/key.pem`, "-passin", "pass:openssl leaf", "-pubout"]),
    await openssl(["x509", "-in", `${dir}/cert.pem`, "-noout", "-pubkey"]),
  );
  const renamed = await certrole(["pki", "issue", "--csr", "csr.pem", "--cn", "renamed", "--cert-out", "renamed.pem"], {
    cwd: dir,
    env: { CERTROLE_CA_PASSPHRASE: CA_PASS },
  });
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.match(await openssl(["x509", "-in", `${dir}/renamed.pem`, "-noout", "-subject"]), /subject=CN = renamed/);

  // A CSR whose signature does not verify (its public key swapped for another) is refused.
  const pem = await Deno.readTextFile(`${dir}/csr.pem`);
  const body = Uint8Array.fromBase64(pem.replace(/-----[A-Z ]+-----|\s/g, ""));
  body[body.length - 10] ^= 0xff;
  await Deno.writeFile(`${dir}/tampered.csr`, body);
  const tampered = await certrole(["pki", "issue", "--csr", "tampered.csr", "--cert-out", "t.pem"], {
    cwd: dir,
    env: { CERTROLE_CA_PASSPHRASE: CA_PASS },
  });
  assert.equal(tampered.code, 1);
  assert.equal(
    tampered.stderr,
    'certrole: CSR "tampered.csr" has a signature that does not verify: make it again with its own key\n',
  );
});

Deno.test("a CA made by openssl as in the walkthrough (genrsa -aes256 key) issues through certrole", async () => {
  const dir = await tempDir();
  const ca = await makeCa(dir, { passphrase: CA_PASS });
  const result = await certrole(["pki", "issue", "--cn", "myContainer", "--ca-cert", ca.cert, "--ca-key", ca.key], {
    cwd: dir,
    env: ENV,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await openssl(["verify", "-CAfile", ca.cert, `${dir}/cert.pem`]), `${dir}/cert.pem: OK\n`);
});

Deno.test("refusals: one line, nothing written", async () => {
  const dir = await caDir("ec-p256", "2");
  const other = await caDir("ec-p256");
  await Deno.writeTextFile(`${dir}/wrong-pass`, "not it\n");
  const cases: [string, string[], Record<string, string>, number, RegExp][] = [
    [
      "no --cn",
      [],
      ENV,
      2,
      /^certrole: give the certificate's common name with --cn, e\.g\. --cn myContainer \(or sign a --csr\)$/,
    ],
    [
      "days and hours",
      ["--cn", "c", "--days", "1", "--hours", "2"],
      ENV,
      2,
      /^certrole: --days and --hours are both given: keep one$/,
    ],
    [
      "bad hours",
      ["--cn", "c", "--hours", "1.5"],
      ENV,
      2,
      /^certrole: --hours "1\.5" must be a whole number of at least 1$/,
    ],
    [
      "csr with key flags",
      ["--csr", "x.csr", "--key-type", "ec-p256"],
      ENV,
      2,
      /^certrole: --key-type does not apply with --csr: the key stays with whoever made the CSR$/,
    ],
    [
      "bad dns",
      ["--cn", "c", "--dns", "not a name"],
      ENV,
      2,
      /^certrole: --dns "not a name" is not a DNS name like app\.example\.com$/,
    ],
    [
      "bad uri",
      ["--cn", "c", "--uri", "no-scheme"],
      ENV,
      2,
      /^certrole: --uri "no-scheme" is not an absolute URI like spiffe:\/\/example\.org\/app$/,
    ],
    [
      "outlives the CA",
      ["--cn", "c", "--days", "3"],
      ENV,
      2,
      /^certrole: the certificate would be valid until \S+, after the CA expires \(\S+\): ask for a shorter --days\/--hours or renew the CA$/,
    ],
    [
      "wrong CA passphrase",
      ["--cn", "c"],
      { ...ENV, CERTROLE_CA_PASSPHRASE: "wrong" },
      1,
      /^certrole: wrong passphrase for CA private key file "ca-key\.pem" \(passphrase from CERTROLE_CA_PASSPHRASE\): check the passphrase$/,
    ],
    [
      "wrong CA passphrase file",
      ["--cn", "c", "--ca-passphrase-file", "wrong-pass"],
      { ROLESANYWHERE_KEY_PASSPHRASE: KEY_PASS },
      1,
      /^certrole: wrong passphrase for CA private key file "ca-key\.pem" \(passphrase from file "wrong-pass"\)/,
    ],
    [
      "CA passphrase missing",
      ["--cn", "c"],
      { ROLESANYWHERE_KEY_PASSPHRASE: KEY_PASS },
      1,
      /^certrole: CA private key file "ca-key\.pem" is encrypted and no passphrase was given: set CERTROLE_CA_PASSPHRASE, CERTROLE_CA_PASSPHRASE_FILE or --ca-passphrase-file$/,
    ],
    [
      "leaf passphrase missing",
      ["--cn", "c"],
      { CERTROLE_CA_PASSPHRASE: CA_PASS },
      2,
      /^certrole: no passphrase for the new key key\.pem and no terminal to ask on: set ROLESANYWHERE_KEY_PASSPHRASE, ROLESANYWHERE_KEY_PASSPHRASE_FILE or --passphrase-file \(or pass --no-passphrase for a throwaway demo key\)$/,
    ],
    [
      "CA key of another CA",
      ["--cn", "c", "--ca-key", `${other}/ca-key.pem`],
      ENV,
      1,
      /^certrole: CA private key ".*" does not belong to the CA certificate: set --ca-key and --ca-cert to a pair$/,
    ],
    [
      "not a CA",
      ["--cn", "c", "--ca-cert", `${other}/leaf.pem`],
      ENV,
      1,
      /^certrole: CA certificate ".*leaf\.pem" is not a CA \(no basicConstraints CA:TRUE\): set --ca-cert to your CA's certificate$/,
    ],
    [
      "CA certificate missing",
      ["--cn", "c", "--ca-cert", "nope.pem"],
      ENV,
      1,
      /^certrole: CA certificate file "nope\.pem" does not exist: set --ca-cert to the right path$/,
    ],
  ];
  const leaf = await certrole(["pki", "issue", "--cn", "leaf", "--cert-out", "leaf.pem", "--key-out", "leaf-key.pem"], {
    cwd: other,
    env: ENV,
  });
  assert.equal(leaf.code, 0, leaf.stderr);
  for (const [name, args, env, code, message] of cases) {
    const result = await certrole(["pki", "issue", ...args], { cwd: dir, env });
    assert.equal(result.code, code, `${name}: ${result.stderr}`);
    assert.match(result.stderr.trimEnd(), message, name);
    assert.equal(result.stderr.trim().split("\n").length, 1, `${name}: ${result.stderr}`);
    assert.deepEqual(names(dir), ["ca-cert.pem", "ca-key.pem", "wrong-pass"], `${name} wrote nothing`);
  }

  await Deno.writeTextFile(`${dir}/cert.pem`, "keep me\n");
  const exists = await certrole(["pki", "issue", "--cn", "c"], { cwd: dir, env: ENV });
  assert.equal(exists.code, 1);
  assert.equal(
    exists.stderr,
    'certrole: certificate "cert.pem" already exists: pass --force to replace it, or choose another path with --cert-out\n',
  );
  assert.deepEqual(names(dir), ["ca-cert.pem", "ca-key.pem", "cert.pem", "wrong-pass"], "no key.pem either");
  const forced = await certrole(["pki", "issue", "--cn", "c", "--force"], { cwd: dir, env: ENV });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(await openssl(["verify", "-CAfile", "ca-cert.pem", "cert.pem"], { cwd: dir }), "cert.pem: OK\n");
});
