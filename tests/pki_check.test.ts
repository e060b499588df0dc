/**
 * `certrole pki check` passes what the walkthrough's openssl commands make and what certrole's
 * own pki commands make, and fails each certificate Roles Anywhere would reject with the right ✗
 * (and only that one): SHA-1 signed, X.509 v1, CA without keyCertSign, leaf with CA:TRUE, leaf
 * without digitalSignature, expired, not yet valid, signed by another CA, a chain that breaks
 * pathLenConstraint, key mismatch, weak key.
 * Warnings (expiry soon) do not fail it; --json carries the same report.
 */
import assert from "node:assert/strict";
import { issueDated, issueLeaf, makeCa, makeIntermediate } from "./support/pki.ts";
import { certrole, openssl, type RunResult, tempDir } from "./support/run.ts";

interface Report {
  ok: boolean;
  items: { id: string; file: string }[];
  requirements: { item: string; id: string; ok: boolean; text: string; fix?: string }[];
  warnings: { item: string; id: string; text: string }[];
}

async function check(args: string[], env: Record<string, string> = {}): Promise<{ human: RunResult; report: Report }> {
  const human = await certrole(["pki", "check", ...args], { env });
  const json = await certrole(["pki", "check", ...args, "--json"], { env });
  assert.equal(json.code, human.code, `--json exits like the human report: ${json.stderr}`);
  return { human, report: JSON.parse(json.stdout) };
}

/** The failing requirements as "item.id", sorted. */
function failures(report: Report): string[] {
  return report.requirements.filter((result) => !result.ok).map((result) => `${result.item}.${result.id}`).sort();
}

const dir = await tempDir("certrole pki-check ");
const ca = await makeCa(`${dir}/ca`);

Deno.test("the walkthrough's openssl commands (passphrases, v3.ext) pass every requirement", async () => {
  const work = `${dir}/walkthrough`;
  await Deno.mkdir(work);
  const env = { CA_PASS: "ca secret", KEY_PASS: "key secret" };
  const steps: string[][] = [
    ["genrsa", "-aes256", "-passout", "env:CA_PASS", "-out", "ca-key.pem", "2048"],
    [
      "req",
      "-new",
      "-x509",
      "-days",
      "1095",
      "-key",
      "ca-key.pem",
      "-passin",
      "env:CA_PASS",
      "-out",
      "ca-cert.pem",
      "-subj",
      "/C=US/O=Example/CN=myPrivateCA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-days",
      "1",
      "-keyout",
      "key.pem",
      "-passout",
      "env:KEY_PASS",
      "-out",
      "csr.pem",
      "-subj",
      "/CN=myContainer",
    ],
    [
      "x509",
      "-req",
      "-days",
      "1",
      "-in",
      "csr.pem",
      "-CA",
      "ca-cert.pem",
      "-CAkey",
      "ca-key.pem",
      "-passin",
      "env:CA_PASS",
      "-set_serial",
      "01",
      "-out",
      "cert.pem",
      "-extfile",
      "v3.ext",
      "-sha256",
    ],
  ];
  await Deno.writeTextFile(
    `${work}/v3.ext`,
    "authorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\nkeyUsage = digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment\n",
  );
  for (const step of steps) await openssl(step, { env, cwd: work });

  const { human, report } = await check(
    ["--ca", `${work}/ca-cert.pem`, "--cert", `${work}/cert.pem`, "--key", `${work}/key.pem`],
    { ROLESANYWHERE_KEY_PASSPHRASE: env.KEY_PASS },
  );
  assert.equal(human.code, 0, human.stdout + human.stderr);
  assert.deepEqual(failures(report), []);
  assert.equal(report.ok, true);
  assert.doesNotMatch(human.stdout, /✗/);
  for (
    const line of [
      "  ✓ X.509 v3",
      "  ✓ basicConstraints CA:TRUE",
      "  ✓ keyUsage keyCertSign",
      "  ✓ basicConstraints CA:FALSE",
      "  ✓ keyUsage digitalSignature",
      "  ✓ RSA-2048 key, matches the certificate",
    ]
  ) assert.ok(human.stdout.includes(line), `${line} in:\n${human.stdout}`);
  assert.match(human.stdout, /✓ chains to the CA "CN=myPrivateCA,O=Example,C=US", signatures verified/);
  assert.match(human.stdout, /All 14 requirements of IAM Roles Anywhere hold\./);
  // A fresh 1-day certificate is in the first third of its lifetime: no expiry warning.
  assert.deepEqual(report.warnings, []);
});

Deno.test("a chain through an intermediate passes with --intermediates and fails without", async () => {
  const intermediate = await makeIntermediate(ca, "issuing-ca");
  const leaf = await issueLeaf(intermediate, "via-intermediate");
  const withChain = await check(["--ca", ca.cert, "--intermediates", intermediate.cert, "--cert", leaf.cert]);
  assert.equal(withChain.human.code, 0, withChain.human.stdout);
  assert.match(withChain.human.stdout, /✓ chains to the CA "CN=myPrivateCA,O=Example,C=US" through "CN=issuing-ca"/);
  assert.ok(withChain.report.items.some((item) => item.id === "intermediate-1"));
  const without = await check(["--ca", ca.cert, "--cert", leaf.cert]);
  assert.equal(without.human.code, 1);
  assert.deepEqual(failures(without.report), ["leaf.chain"]);
  assert.match(without.human.stdout, /✗ does not chain .*: it was issued by "CN=issuing-ca": .*--intermediates/);
});

const WALKTHROUGH_V3 = "authorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\n";

const failing: {
  name: string;
  expected: string[];
  line: RegExp;
  make: () => Promise<{ ca: string; args: string[] }>;
}[] = [
  {
    name: "SHA-1 signed certificate",
    expected: ["leaf.signature-algorithm"],
    line: /✗ signed with sha1WithRSAEncryption \(SHA-1\); .*rejects SHA-1 and MD5: re-issue .*SHA-256/,
    make: async () => ({ ca: ca.cert, args: ["--cert", (await issueLeaf(ca, "sha1", { digest: "sha1" })).cert] }),
  },
  {
    name: "MD5 signed certificate (whose signature WebCrypto cannot check either)",
    expected: ["leaf.chain", "leaf.signature-algorithm"],
    line: /✗ signed with md5WithRSAEncryption \(MD5\); .*rejects SHA-1 and MD5/,
    make: async () => ({ ca: ca.cert, args: ["--cert", (await issueLeaf(ca, "md5", { digest: "md5" })).cert] }),
  },
  {
    name: "X.509 v1 certificate (openssl x509 -req without -extfile)",
    expected: ["leaf.key-usage", "leaf.x509-v3"],
    line:
      /✗ X\.509 v1, Roles Anywhere requires v3: re-issue the certificate with v3 extensions \(openssl x509 -req \.\.\. -extfile v3\.ext\), or use certrole pki issue$/m,
    make: async () => ({ ca: ca.cert, args: ["--cert", (await issueLeaf(ca, "v1", { extensions: null })).cert] }),
  },
  {
    name: "CA without keyCertSign",
    expected: ["ca.key-usage"],
    line:
      /✗ keyUsage lacks keyCertSign, .*: re-create the CA certificate with keyUsage = critical, keyCertSign, cRLSign/,
    make: async () => {
      const noCertSign = await makeCa(`${dir}/no-certsign`, {
        addext: ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,digitalSignature,cRLSign"],
      });
      return { ca: noCertSign.cert, args: ["--cert", (await issueLeaf(noCertSign, "leaf")).cert] };
    },
  },
  {
    name: "leaf with CA:TRUE",
    expected: ["leaf.basic-constraints"],
    line: /✗ basicConstraints CA:TRUE: .*: re-issue the certificate with basicConstraints = CA:FALSE/,
    make: async () => ({
      ca: ca.cert,
      args: [
        "--cert",
        (await issueLeaf(ca, "ca-true", { extensions: "basicConstraints=CA:TRUE\nkeyUsage=digitalSignature" })).cert,
      ],
    }),
  },
  {
    name: "leaf without digitalSignature",
    expected: ["leaf.key-usage"],
    line: /✗ keyUsage lacks digitalSignature, .*: re-issue the certificate with keyUsage = critical, digitalSignature/,
    make: async () => ({
      ca: ca.cert,
      args: [
        "--cert",
        (await issueLeaf(ca, "no-ds", { extensions: WALKTHROUGH_V3 + "keyUsage=keyEncipherment" })).cert,
      ],
    }),
  },
  {
    name: "expired certificate",
    expected: ["leaf.validity"],
    line: /✗ expired at 2021-01-02T00:00:00Z \(valid 2021-01-01T00:00:00Z to 2021-01-02T00:00:00Z\): re-issue/,
    make: async () => ({
      ca: ca.cert,
      args: ["--cert", (await issueDated(ca, "expired", "20210101000000Z", "20210102000000Z")).cert],
    }),
  },
  {
    name: "certificate not yet valid",
    expected: ["leaf.validity"],
    line: /✗ not valid until 2099-01-01T00:00:00Z .*: check this machine's clock/,
    make: async () => ({
      ca: ca.cert,
      args: ["--cert", (await issueDated(ca, "future", "20990101000000Z", "20990102000000Z")).cert],
    }),
  },
  {
    name: "certificate signed by another CA with the same name",
    expected: ["leaf.chain"],
    line: /✗ does not chain to the CA .*: this CA's key did not sign it/,
    make: async () => {
      const impostor = await makeCa(`${dir}/impostor`);
      return { ca: ca.cert, args: ["--cert", (await issueLeaf(impostor, "leaf")).cert] };
    },
  },
  {
    name: "chain that violates pathLenConstraint 0 (the same rule as the emulator's CreateSession)",
    expected: ["leaf.chain"],
    line:
      /✗ does not chain to the CA .*: pathLenConstraint 0 of "CN=pathlen-0" allows no intermediate CA below it, and the chain has 1: issue it from a CA whose pathLenConstraint allows/,
    make: async () => {
      const top = await makeIntermediate(ca, "pathlen-0", {
        extensions: "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
      });
      const below = await makeIntermediate(top, "below");
      const chain = `${dir}/pathlen-chain.pem`;
      await Deno.writeTextFile(chain, (await Deno.readTextFile(below.cert)) + (await Deno.readTextFile(top.cert)));
      return { ca: ca.cert, args: ["--intermediates", chain, "--cert", (await issueLeaf(below, "leaf")).cert] };
    },
  },
  {
    name: "private key that does not match",
    expected: ["key.key-matches"],
    line: /✗ RSA-2048 key, does not match the certificate's public key: use the key the certificate was issued for/,
    make: async () => {
      const one = await issueLeaf(ca, "mismatch-one", { passphrase: null });
      const two = await issueLeaf(ca, "mismatch-two", { passphrase: null });
      return { ca: ca.cert, args: ["--cert", one.cert, "--key", two.key] };
    },
  },
  {
    name: "RSA 1024-bit key",
    expected: ["leaf.key-type"],
    line: /✗ RSA 1024-bit key; Roles Anywhere accepts RSA of 2048 bits or more, EC P-256 and P-384/,
    make: async () => {
      const base = `${dir}/rsa1024`;
      await openssl([
        "req",
        "-newkey",
        "rsa:1024",
        "-noenc",
        "-keyout",
        `${base}-key.pem`,
        "-out",
        `${base}.csr`,
        "-subj",
        "/CN=weak",
      ]);
      await Deno.writeTextFile(`${base}.ext`, WALKTHROUGH_V3 + "keyUsage=digitalSignature\n");
      await openssl([
        "x509",
        "-req",
        "-in",
        `${base}.csr`,
        "-CA",
        ca.cert,
        "-CAkey",
        ca.key,
        "-passin",
        `pass:${ca.passphrase}`,
        "-days",
        "1",
        "-extfile",
        `${base}.ext`,
        "-out",
        `${base}-cert.pem`,
      ]);
      return { ca: ca.cert, args: ["--cert", `${base}-cert.pem`] };
    },
  },
];

for (const { name, expected, line, make } of failing) {
  Deno.test(`fails: ${name}`, async () => {
    const { ca: caPath, args } = await make();
    const { human, report } = await check(["--ca", caPath, ...args]);
    assert.equal(human.code, 1, human.stdout + human.stderr);
    assert.equal(report.ok, false);
    assert.deepEqual(failures(report), expected);
    assert.match(human.stdout, line);
    assert.match(human.stdout, new RegExp(`${expected.length} of \\d+ requirements of IAM Roles Anywhere fail`));
    for (const result of report.requirements) assert.equal(result.fix !== undefined, !result.ok, result.id);
  });
}

/** openssl's YYYYMMDDHHMMSSZ for now + hours. */
function hoursFromNow(hours: number): string {
  return new Date(Date.now() + hours * 3_600_000).toISOString().replace(/[-:T]/g, "").replace(/\.\d{3}/, "");
}

Deno.test("default expiry warning: the last third of the certificate's lifetime, so a fresh one is quiet", async () => {
  const issued = await certrole([
    "pki",
    "issue",
    "--cn",
    "myContainer",
    "--ca-cert",
    ca.cert,
    "--ca-key",
    ca.key,
    "--no-passphrase",
    "--cert-out",
    `${dir}/fresh-cert.pem`,
    "--key-out",
    `${dir}/fresh-key.pem`,
  ], { env: { CERTROLE_CA_PASSPHRASE: ca.passphrase! } });
  assert.equal(issued.code, 0, issued.stderr);
  const fresh = await check(["--ca", ca.cert, "--cert", `${dir}/fresh-cert.pem`]);
  assert.equal(fresh.human.code, 0, fresh.human.stdout);
  assert.deepEqual(fresh.report.warnings, [], "certrole pki issue's default 1-day certificate");
  assert.doesNotMatch(fresh.human.stdout, /Warnings/);

  const warned = async (name: string, fromHours: number, toHours: number) =>
    (await check([
      "--ca",
      ca.cert,
      "--cert",
      (await issueDated(ca, name, hoursFromNow(fromHours), hoursFromNow(toHours))).cert,
    ]))
      .report.warnings.map((warning) => `${warning.item}.${warning.id}`);
  assert.deepEqual(await warned("day-early", -1, 23), []);
  assert.deepEqual(await warned("day-late", -20, 4), ["leaf.expires-soon"], "4h left of 24h");
  assert.deepEqual(await warned("ten-days-late", -8 * 24, 2 * 24), ["leaf.expires-soon"], "2 days left of 10");
  assert.deepEqual(await warned("ten-days-early", -24, 9 * 24), []);
});

Deno.test("warnings: --warn-within for the certificate, 30 days for the CA; they do not fail the check", async () => {
  const shortCa = await makeCa(`${dir}/short-ca`, { days: 10 });
  const leaf = await issueLeaf(shortCa, "leaf", { days: 3 });
  const wide = await check(["--ca", shortCa.cert, "--cert", leaf.cert, "--warn-within", "4d"]);
  assert.equal(wide.human.code, 0, wide.human.stdout);
  assert.deepEqual(wide.report.warnings.map((warning) => `${warning.item}.${warning.id}`).sort(), [
    "ca.expires-soon",
    "leaf.expires-soon",
  ]);
  assert.match(wide.human.stdout, /! CA certificate .* expires in (9d 23h|10d), at \S+: create a new CA/);
  assert.match(wide.human.stdout, /! certificate .* expires in (2d 23h|3d), at \S+: issue a new certificate/);
  const narrow = await check(["--ca", shortCa.cert, "--cert", leaf.cert, "--warn-within", "1h"]);
  assert.deepEqual(narrow.report.warnings.map((warning) => `${warning.item}.${warning.id}`), ["ca.expires-soon"]);
  assert.doesNotMatch(narrow.human.stdout, /! certificate/);
  const outliving = await issueLeaf(shortCa, "outliving", { days: 20 });
  const late = await check(["--ca", shortCa.cert, "--cert", outliving.cert, "--warn-within", "1h"]);
  assert.equal(late.human.code, 0, late.human.stdout);
  assert.deepEqual(late.report.warnings.map((warning) => `${warning.item}.${warning.id}`), [
    "ca.expires-soon",
    "leaf.outlives-ca",
  ]);
  assert.match(
    late.human.stdout,
    /! certificate .* is valid until \S+, after its CA expires \(\S+\), and stops working then/,
  );
});

Deno.test("an encrypted --key needs its passphrase: from the environment, else a one-line error", async () => {
  const leaf = await issueLeaf(ca, "encrypted-key", { passphrase: "leaf pass" });
  const ok = await check(["--ca", ca.cert, "--cert", leaf.cert, "--key", leaf.key], {
    ROLESANYWHERE_KEY_PASSPHRASE: "leaf pass",
  });
  assert.equal(ok.human.code, 0, ok.human.stdout + ok.human.stderr);
  const passFile = `${dir}/leaf-pass.txt`;
  await Deno.writeTextFile(passFile, "leaf pass\n");
  const fromFile = await certrole([
    "pki",
    "check",
    "--ca",
    ca.cert,
    "--cert",
    leaf.cert,
    "--key",
    leaf.key,
    "--passphrase-file",
    passFile,
  ]);
  assert.equal(fromFile.code, 0, fromFile.stdout + fromFile.stderr);
  const none = await certrole(["pki", "check", "--ca", ca.cert, "--cert", leaf.cert, "--key", leaf.key]);
  assert.equal(none.code, 1);
  assert.match(
    none.stderr,
    /^certrole: private key file ".*" is encrypted and no passphrase was given: set ROLESANYWHERE_KEY_PASSPHRASE, ROLESANYWHERE_KEY_PASSPHRASE_FILE or --passphrase-file\n$/,
  );
  const wrong = await certrole(["pki", "check", "--ca", ca.cert, "--cert", leaf.cert, "--key", leaf.key], {
    env: { ROLESANYWHERE_KEY_PASSPHRASE: "nope" },
  });
  assert.equal(wrong.code, 1);
  assert.match(
    wrong.stderr,
    /^certrole: wrong passphrase for private key file .* \(passphrase from ROLESANYWHERE_KEY_PASSPHRASE\)/,
  );
});

Deno.test("usage errors are one line with exit 2; unreadable inputs one line with exit 1", async () => {
  const cases: [string[], number, RegExp][] = [
    [[], 2, /^certrole: missing settings: --ca \(the CA certificate\), --cert \/ ROLESANYWHERE_CERT_LOCATION/],
    [
      ["--ca", ca.cert, "--cert", ca.cert, "--warn-within", "soon"],
      2,
      /^certrole: --warn-within "soon" is not a duration/,
    ],
    [
      ["--ca", `${dir}/nope.pem`, "--cert", ca.cert],
      1,
      /^certrole: CA certificate file ".*nope.pem" does not exist: set --ca/,
    ],
    [["--ca", ca.key, "--cert", ca.cert], 1, /^certrole: CA certificate file ".*" is not a valid X.509 certificate/],
    [["--ca", ca.cert, "--cert", ca.cert, "--bogus"], 2, /^certrole: unknown flag --bogus/],
  ];
  for (const [args, code, message] of cases) {
    const result = await certrole(["pki", "check", ...args]);
    assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});
