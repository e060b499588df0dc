/**
 * `certrole pki init-ca` makes a CA openssl accepts (v3, critical CA:TRUE and keyCertSign +
 * cRLSign, key identifiers, SHA-256/384) for every key type, with an encrypted PKCS#8 key
 * (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) that `openssl pkey -passin` opens, files 0600/0644;
 * and refuses, in one line and without writing anything, what it should.
 */
import assert from "node:assert/strict";
import { certrole, openssl, tempDir } from "./support/run.ts";

const CA_PASS = "correct horse battery staple";

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o777).toString(8);
}

Deno.test("default CA: encrypted RSA-2048 key and a v3 CA certificate that openssl accepts", async () => {
  const dir = await tempDir();
  const result = await certrole(["pki", "init-ca", "--cn", "myPrivateCA", "--org", "Example", "--country", "us"], {
    cwd: dir,
    env: { CERTROLE_CA_PASSPHRASE: CA_PASS },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^Wrote ca-key\.pem: RSA-2048 private key, encrypted \(passphrase from CERTROLE_CA_PASSPHRASE\), mode 0600$/m,
  );
  assert.match(result.stdout, /^Wrote ca-cert\.pem: CA certificate "CN=myPrivateCA,O=Example,C=US"/m);
  assert.match(result.stderr, /^certrole: warning: a CA made by hand is for demos and tests\. .*AWS Private CA/);
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(CA_PASS));
  assert.equal(await mode(`${dir}/ca-key.pem`), "600");
  assert.equal(await mode(`${dir}/ca-cert.pem`), "644");

  const text = await openssl(["x509", "-in", `${dir}/ca-cert.pem`, "-noout", "-text"]);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Subject: C = US, O = Example, CN = myPrivateCA/);
  assert.match(text, /Issuer: C = US, O = Example, CN = myPrivateCA/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
  const ski = text.match(/X509v3 Subject Key Identifier: \n\s+([0-9A-F:]+)\n/)?.[1];
  const aki = text.match(/X509v3 Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)\n/)?.[1];
  assert.ok(ski && ski === aki, `SKI ${ski} equals AKI ${aki}`);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  const dates = await openssl(["x509", "-in", `${dir}/ca-cert.pem`, "-noout", "-startdate", "-enddate"]);
  const [start, end] = [...dates.matchAll(/=(.*)\n/g)].map((match) => new Date(match[1]).getTime());
  assert.equal((end - start) / 86_400_000, 1095);
  assert.match(await openssl(["verify", "-CAfile", `${dir}/ca-cert.pem`, `${dir}/ca-cert.pem`]), /: OK/);

  const keyPem = await Deno.readTextFile(`${dir}/ca-key.pem`);
  assert.match(keyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  const structure = await openssl(["asn1parse", "-in", `${dir}/ca-key.pem`]);
  for (const name of [":PBES2", ":PBKDF2", ":hmacWithSHA256", ":aes-256-cbc"]) {
    assert.ok(structure.includes(name), name);
  }
  const publicFromKey = await openssl(["pkey", "-in", `${dir}/ca-key.pem`, "-passin", "env:PASS", "-pubout"], {
    env: { PASS: CA_PASS },
  });
  const publicFromCert = await openssl(["x509", "-in", `${dir}/ca-cert.pem`, "-noout", "-pubkey"]);
  assert.equal(publicFromKey, publicFromCert);
  await assert.rejects(
    openssl(["pkey", "-in", `${dir}/ca-key.pem`, "-passin", "pass:wrong", "-noout"]),
    /bad decrypt|decode|unable to load/i,
  );
});

for (
  const [keyType, publicKey, signature] of [
    ["rsa-3072", /Public-Key: \(3072 bit\)/, "sha256WithRSAEncryption"],
    ["rsa-4096", /Public-Key: \(4096 bit\)/, "sha256WithRSAEncryption"],
    ["ec-p256", /NIST CURVE: P-256/, "ecdsa-with-SHA256"],
    ["ec-p384", /NIST CURVE: P-384/, "ecdsa-with-SHA384"],
  ] as const
) {
  Deno.test(`--key-type ${keyType} with --no-passphrase: plain PKCS#8 key, ${signature} CA certificate`, async () => {
    const dir = await tempDir();
    const result = await certrole([
      "pki",
      "init-ca",
      "--cn",
      `ca ${keyType}`,
      "--key-type",
      keyType,
      "--days",
      "30",
      "--no-passphrase",
      "--cert-out",
      `${dir}/ca.crt`,
      "--key-out",
      `${dir}/ca.key`,
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.keyType, keyType);
    assert.equal(summary.keyEncrypted, false);
    assert.equal(summary.subject, `CN=ca ${keyType}`);
    assert.equal((Date.parse(summary.notAfter) - Date.parse(summary.notBefore)) / 86_400_000, 30);
    const text = await openssl(["x509", "-in", `${dir}/ca.crt`, "-noout", "-text"]);
    assert.match(text, publicKey);
    assert.match(text, new RegExp(`Signature Algorithm: ${signature}`));
    assert.match(await Deno.readTextFile(`${dir}/ca.key`), /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(await mode(`${dir}/ca.key`), "600");
    assert.equal(
      await openssl(["pkey", "-in", `${dir}/ca.key`, "-pubout"]),
      await openssl(["x509", "-in", `${dir}/ca.crt`, "-noout", "-pubkey"]),
    );
    assert.match(await openssl(["verify", "-CAfile", `${dir}/ca.crt`, `${dir}/ca.crt`]), /: OK/);
  });
}

Deno.test("the passphrase from --passphrase-file or CERTROLE_CA_PASSPHRASE_FILE (one trailing newline dropped)", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/pass`, "from a file\n");
  for (
    const [name, args, env] of [
      ["flag", ["--passphrase-file", `${dir}/pass`], {}],
      ["env", [], { CERTROLE_CA_PASSPHRASE_FILE: `${dir}/pass` }],
    ] as const
  ) {
    const result = await certrole(
      [
        "pki",
        "init-ca",
        "--cn",
        "myPrivateCA",
        "--key-type",
        "ec-p256",
        "--key-out",
        `${dir}/${name}-key.pem`,
        "--cert-out",
        `${dir}/${name}-cert.pem`,
        ...args,
      ],
      { env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /encrypted \(passphrase from file ".*pass"/);
    await openssl(["pkey", "-in", `${dir}/${name}-key.pem`, "-passin", "pass:from a file", "-noout"]);
  }
});

Deno.test("refusals: one line, nothing written", async () => {
  const dir = await tempDir();
  const env = { CERTROLE_CA_PASSPHRASE: CA_PASS };
  const cases: [string, string[], Record<string, string>, number, RegExp][] = [
    ["no --cn", [], env, 2, /^certrole: give the CA a name with --cn, e\.g\. --cn myPrivateCA$/],
    [
      "bad key type",
      ["--cn", "x", "--key-type", "dsa"],
      env,
      2,
      /^certrole: --key-type "dsa" is not a key type Roles Anywhere accepts: use rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384, ml-dsa-44, ml-dsa-65, ml-dsa-87$/,
    ],
    ["bad days", ["--cn", "x", "--days", "0"], env, 2, /^certrole: --days "0" must be a whole number of at least 1$/],
    [
      "bad country",
      ["--cn", "x", "--country", "USA"],
      env,
      2,
      /^certrole: --country "USA" is not a two-letter code like US$/,
    ],
    [
      "no passphrase, no terminal",
      ["--cn", "x"],
      {},
      2,
      /^certrole: no passphrase for the new CA key ca-key\.pem and no terminal to ask on: set CERTROLE_CA_PASSPHRASE, CERTROLE_CA_PASSPHRASE_FILE or --passphrase-file \(or pass --no-passphrase for a throwaway demo key\)$/,
    ],
    [
      "contradiction",
      ["--cn", "x", "--no-passphrase", "--passphrase-file", "p"],
      {},
      2,
      /^certrole: --no-passphrase and --passphrase-file contradict each other: keep one$/,
    ],
    [
      "same path twice",
      ["--cn", "x", "--cert-out", "same.pem", "--key-out", "same.pem"],
      env,
      2,
      /^certrole: --key-out and --cert-out are both "same\.pem": give them different paths$/,
    ],
    [
      "missing directory",
      ["--cn", "x", "--key-out", "nowhere/ca-key.pem"],
      env,
      1,
      /^certrole: directory "nowhere" for CA private key does not exist: create it first$/,
    ],
    [
      "passphrase file missing",
      ["--cn", "x", "--passphrase-file", "missing.txt"],
      {},
      1,
      /^certrole: passphrase file "missing\.txt" does not exist/,
    ],
    [
      "passphrase in argv",
      ["--cn", "x", "--passphrase", "secret"],
      {},
      2,
      /^certrole: unknown flag --passphrase for `certrole pki init-ca`/,
    ],
  ];
  for (const [name, args, caseEnv, code, message] of cases) {
    const result = await certrole(["pki", "init-ca", ...args], { cwd: dir, env: caseEnv });
    assert.equal(result.code, code, `${name}: ${result.stderr}`);
    assert.match(result.stderr.trimEnd(), message, name);
    assert.equal(result.stderr.trim().split("\n").length, 1, `${name}: ${result.stderr}`);
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), [], `${name} wrote nothing`);
  }
});

Deno.test("existing files are kept unless --force; checked before anything is written", async () => {
  const dir = await tempDir();
  const env = { CERTROLE_CA_PASSPHRASE: CA_PASS };
  await Deno.writeTextFile(`${dir}/ca-cert.pem`, "keep me\n", { mode: 0o644 });
  const refused = await certrole(["pki", "init-ca", "--cn", "myPrivateCA"], { cwd: dir, env });
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    'certrole: CA certificate "ca-cert.pem" already exists: pass --force to replace it, or choose another path with --cert-out\n',
  );
  assert.equal(await Deno.readTextFile(`${dir}/ca-cert.pem`), "keep me\n");
  assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["ca-cert.pem"], "no key written either");

  await Deno.writeTextFile(`${dir}/ca-key.pem`, "old key\n", { mode: 0o644 });
  const forced = await certrole(["pki", "init-ca", "--cn", "myPrivateCA", "--force"], { cwd: dir, env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(await Deno.readTextFile(`${dir}/ca-key.pem`), /ENCRYPTED PRIVATE KEY/);
  assert.equal(await mode(`${dir}/ca-key.pem`), "600", "a replaced key gets the key mode, not the old file's");
  assert.match(await openssl(["verify", "-CAfile", `${dir}/ca-cert.pem`, `${dir}/ca-cert.pem`]), /: OK/);
  assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name).sort(), ["ca-cert.pem", "ca-key.pem"]);
});
