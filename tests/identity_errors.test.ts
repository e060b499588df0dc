/**
 * Bad certificates, keys and passphrases stop credential-process before any network call, with
 * one line on stderr that names the file and the fix, a non-zero exit and no stack trace.
 * The endpoint points at a closed port: reaching the network would show up as a different error.
 */
import assert from "node:assert/strict";
import { OFFLINE_ARNS } from "./support/exec.ts";
import { issueDated, issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, openssl, run, tempDir } from "./support/run.ts";

const ARNS = {
  ...OFFLINE_ARNS,
  ROLESANYWHERE_ENDPOINT: "http://127.0.0.1:9",
  ROLESANYWHERE_NO_CACHE: "1",
  AWS_MAX_ATTEMPTS: "1",
};

async function expectFailure(env: Record<string, string>, pattern: RegExp, args: string[] = []): Promise<string> {
  const result = await certrole(["credential-process", ...args], { env: { ...ARNS, ...env }, killAfterMs: 20_000 });
  assert.equal(result.killed, false, "still running after 20 s");
  assert.notEqual(result.code, 0, "must fail");
  assert.equal(result.stdout, "", "nothing on stdout");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0], /^certrole: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /refused|\bat \S+\.ts:\d+/, "no network attempt and no stack trace");
  return lines[0];
}

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
const plainKey = `${dir}/plain-key.pem`;
await openssl(["pkey", "-in", leaf.key, "-passin", `pass:${leaf.passphrase}`, "-out", plainKey]);
const base = { ROLESANYWHERE_CERT_LOCATION: leaf.cert, ROLESANYWHERE_KEY_LOCATION: leaf.key };

Deno.test("wrong passphrase is named as such, with where the passphrase came from", async () => {
  const line = await expectFailure(
    { ...base, ROLESANYWHERE_KEY_PASSPHRASE: "not it" },
    /wrong passphrase for private key file ".*leaf-key\.pem" \(passphrase from ROLESANYWHERE_KEY_PASSPHRASE\)/,
  );
  assert.doesNotMatch(line, /not it/, "the passphrase itself is never printed");
  for (const cipher of ["-aes256", "-des3"]) {
    const legacy = `${dir}/legacy${cipher}.pem`;
    await openssl(["rsa", "-in", plainKey, cipher, "-traditional", "-passout", "pass:right", "-out", legacy]);
    await expectFailure(
      { ...base, ROLESANYWHERE_KEY_LOCATION: legacy, ROLESANYWHERE_KEY_PASSPHRASE: "wrong" },
      /wrong passphrase/,
    );
  }
});

Deno.test("an encrypted key without a passphrase says how to give one", async () => {
  await expectFailure(
    base,
    /private key file ".*leaf-key\.pem" is encrypted and no passphrase was given: set ROLESANYWHERE_KEY_PASSPHRASE/,
  );
});

Deno.test("passphrase files: docker-secrets variable, flag, missing file, both variables set", async () => {
  const secret = `${dir}/passphrase`;
  await Deno.writeTextFile(secret, `${leaf.passphrase}\n`);
  const viaFile = await certrole(["credential-process"], {
    env: { ...ARNS, ...base, ROLESANYWHERE_KEY_PASSPHRASE_FILE: secret },
  });
  assert.match(
    viaFile.stderr,
    /CreateSession at http:\/\/127\.0\.0\.1:9 failed/,
    "the key opened; only the network failed",
  );
  const viaFlag = await certrole(["credential-process", "--passphrase-file", secret], { env: { ...ARNS, ...base } });
  assert.match(viaFlag.stderr, /CreateSession at http:\/\/127\.0\.0\.1:9 failed/);
  await expectFailure(
    { ...base, ROLESANYWHERE_KEY_PASSPHRASE_FILE: `${dir}/nope` },
    /passphrase file ".*nope" does not exist/,
  );
  await expectFailure(
    { ...base, ROLESANYWHERE_KEY_PASSPHRASE_FILE: secret, ROLESANYWHERE_KEY_PASSPHRASE: "x" },
    /ROLESANYWHERE_KEY_PASSPHRASE and ROLESANYWHERE_KEY_PASSPHRASE_FILE are both set/,
  );
});

Deno.test("the key must match the certificate", async () => {
  const other = `${dir}/other-key.pem`;
  await openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other]);
  await expectFailure(
    { ...base, ROLESANYWHERE_KEY_LOCATION: other },
    /private key ".*other-key\.pem" \(RSA-2048\) does not match certificate ".*leaf-cert\.pem"/,
  );
  const ec = `${dir}/ec-key.pem`;
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ec]);
  await expectFailure({ ...base, ROLESANYWHERE_KEY_LOCATION: ec }, /\(EC P-256\) does not match certificate/);
});

Deno.test("expired and not-yet-valid certificates are refused with their dates", async () => {
  const expired = await issueDated(ca, "expired", "20200101000000Z", "20200102000000Z");
  await expectFailure(
    { ROLESANYWHERE_CERT_LOCATION: expired.cert, ROLESANYWHERE_KEY_LOCATION: expired.key },
    /certificate ".*expired-cert\.pem" expired at 2020-01-02T00:00:00\.000Z \(valid 2020-01-01T00:00:00\.000Z to 2020-01-02T00:00:00\.000Z\)/,
  );
  const future = await issueDated(ca, "future", "20990101000000Z", "20990102000000Z");
  await expectFailure(
    { ROLESANYWHERE_CERT_LOCATION: future.cert, ROLESANYWHERE_KEY_LOCATION: future.key },
    /is not valid until 2099-01-01T00:00:00\.000Z/,
  );
});

Deno.test("unsupported key types and ciphers are named", async () => {
  const cases: [string, string[], RegExp][] = [
    ["ed25519", ["genpkey", "-algorithm", "ED25519"], /Ed25519 keys are not supported/],
    [
      "secp256k1",
      ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
      /EC curve secp256k1 is not supported/,
    ],
    [
      "p521",
      ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
      /EC curve secp521r1 is not supported/,
    ],
    ["rsa1024", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], /RSA-1024 is too small/],
  ];
  for (const [name, args, pattern] of cases) {
    const path = `${dir}/${name}.pem`;
    await openssl([...args, "-out", path]);
    await expectFailure({ ...base, ROLESANYWHERE_KEY_LOCATION: path }, pattern);
  }
  const dsaParams = `${dir}/dsa-params.pem`;
  await openssl(["genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-out", dsaParams]);
  await openssl(["genpkey", "-paramfile", dsaParams, "-out", `${dir}/dsa.pem`]);
  await expectFailure({ ...base, ROLESANYWHERE_KEY_LOCATION: `${dir}/dsa.pem` }, /DSA keys are not supported/);
  const camellia = `${dir}/camellia.pem`;
  await openssl([
    "pkcs8",
    "-topk8",
    "-in",
    plainKey,
    "-v2",
    "camellia-256-cbc",
    "-passout",
    "pass:x",
    "-out",
    camellia,
  ]);
  await expectFailure(
    { ...base, ROLESANYWHERE_KEY_LOCATION: camellia, ROLESANYWHERE_KEY_PASSPHRASE: "x" },
    /encrypted with .*(camellia|1\.2\.392).*not supported; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`/,
  );
});

Deno.test("garbage, truncated, empty and missing files are told apart from wrong passphrases", async () => {
  const text = await Deno.readTextFile(plainKey);
  const files: [string, string | Uint8Array, RegExp][] = [
    ["empty.pem", "", /private key file ".*empty\.pem" is corrupt \(the file is empty\)/],
    [
      "truncated.pem",
      text.slice(0, text.length / 2),
      /is corrupt \("BEGIN PRIVATE KEY" has no END line \(file truncated\?\)\)/,
    ],
    [
      "garbage.pem",
      "-----BEGIN PRIVATE KEY-----\n!!!not base64!!!\n-----END PRIVATE KEY-----\n",
      /is corrupt \(the PRIVATE KEY block is not valid base64\)/,
    ],
    [
      "badder.pem",
      "-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n",
      /is corrupt \(the private key is malformed/,
    ],
    ["random.der", crypto.getRandomValues(new Uint8Array(300)), /holds no private key|is corrupt/],
    [
      "cert-only.pem",
      await Deno.readTextFile(leaf.cert),
      /holds no private key \(no PRIVATE KEY block \(found: CERTIFICATE\)\)/,
    ],
  ];
  for (const [name, content, pattern] of files) {
    const path = `${dir}/${name}`;
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
    await expectFailure({ ...base, ROLESANYWHERE_KEY_LOCATION: path, ROLESANYWHERE_KEY_PASSPHRASE: "x" }, pattern);
  }
  await expectFailure(
    { ...base, ROLESANYWHERE_KEY_LOCATION: `${dir}/missing.pem` },
    /private key file ".*missing\.pem" does not exist: set --private-key or ROLESANYWHERE_KEY_LOCATION/,
  );
  await expectFailure({ ...base, ROLESANYWHERE_KEY_LOCATION: dir }, /is a directory/);
  await expectFailure(
    { ...base, ROLESANYWHERE_CERT_LOCATION: `${dir}/garbage.pem` },
    /certificate file ".*garbage\.pem" is not a valid X\.509 certificate/,
  );
  await expectFailure(
    { ...base, ROLESANYWHERE_CERT_LOCATION: plainKey },
    /is not a valid X\.509 certificate \(no CERTIFICATE block; found PRIVATE KEY\)/,
  );
  const encryptedTruncated = `${dir}/enc-truncated.pem`;
  const encrypted = await Deno.readTextFile(leaf.key);
  await Deno.writeTextFile(encryptedTruncated, encrypted.replace(/\n[A-Za-z0-9+/=]{64}\n/, "\n"));
  await expectFailure({
    ...base,
    ROLESANYWHERE_KEY_LOCATION: encryptedTruncated,
    ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
  }, /corrupt|malformed/);
});

Deno.test("the certificate and key may share one PEM file when --private-key is omitted", async () => {
  const combined = `${dir}/combined.pem`;
  await Deno.writeTextFile(combined, (await Deno.readTextFile(leaf.cert)) + (await Deno.readTextFile(plainKey)));
  const result = await certrole(["credential-process", "--certificate", combined], { env: ARNS });
  assert.match(
    result.stderr,
    /CreateSession at http:\/\/127\.0\.0\.1:9 failed/,
    "identity loaded; only the network failed",
  );
});

Deno.test("missing settings are listed together, with what each is for", async () => {
  const result = await certrole(["credential-process"], {
    env: { ROLESANYWHERE_ROLE_ARN: ARNS.ROLESANYWHERE_ROLE_ARN },
  });
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr.trim(),
    "certrole: missing settings: --certificate / ROLESANYWHERE_CERT_LOCATION (the certificate file), " +
      "--trust-anchor-arn / ROLESANYWHERE_TRUST_ANCHOR_ARN (the trust anchor's ARN), " +
      "--profile-arn / ROLESANYWHERE_PROFILE_ARN (the profile's ARN)",
  );
});

Deno.test("malformed ARNs, regions and durations are refused with the setting to fix", async () => {
  await expectFailure(
    { ...base, ROLESANYWHERE_ROLE_ARN: "bucket-lister" },
    /role ARN "bucket-lister" is not an ARN like arn:aws:iam::123456789012:role\/…: fix ROLESANYWHERE_ROLE_ARN/,
  );
  await expectFailure(
    { ...base, ROLESANYWHERE_PROFILE_ARN: ARNS.ROLESANYWHERE_PROFILE_ARN.replace("us-east-1", "eu-west-1") },
    /the trust anchor is in us-east-1 but the profile is in eu-west-1/,
  );
  await expectFailure(base, /--session-duration must be a number of seconds from 900 to 43200, not "60"/, [
    "--session-duration",
    "60",
  ]);
  await expectFailure(base, /unknown flag --certficate for `certrole credential-process`: see --help/, [
    "--certficate",
    "x",
  ]);
});

Deno.test("a FIFO or a device as certificate, key or intermediates is refused instead of read forever", async () => {
  const fifo = `${dir}/cert.fifo`;
  await run("mkfifo", [fifo]);
  for (
    const [env, what, setting] of [
      [{ ROLESANYWHERE_CERT_LOCATION: fifo, ROLESANYWHERE_KEY_LOCATION: leaf.key }, "certificate", "--certificate"],
      [{ ...base, ROLESANYWHERE_KEY_LOCATION: "/dev/zero" }, "private key", "--private-key"],
      [{ ...base, ROLESANYWHERE_INTERMEDIATES_LOCATION: "/dev/null" }, "intermediates bundle", "--intermediates"],
    ] as const
  ) {
    await expectFailure(
      { ...env, ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase! },
      new RegExp(
        `${what} ".*" is not a regular file \\(a pipe, socket or device\\): set ${setting} or \\w+ to a file$`,
      ),
    );
  }
});
