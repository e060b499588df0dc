/**
 * Every private key format OpenSSL writes loads, and yields the same public key openssl derives:
 * RSA 2048/3072/4096 and EC P-256/P-384; PKCS#8, PKCS#1 and SEC1; PEM and DER; PBES2 with PBKDF2
 * (HMAC-SHA1 with the PRF absent, SHA-256/384/512) or scrypt and AES-128/192/256-CBC or
 * DES-EDE3-CBC; PBES1 SHA1-3DES; legacy Proc-Type PEM with AES and DES-EDE3.
 */
import assert from "node:assert/strict";
import { privateKeyFromBytes } from "../cli/identity/identity.ts";
import { type KeyType } from "./support/pki.ts";
import { openssl, run, tempDir } from "./support/run.ts";

const PASS = "correct horse battery staple";

async function baseKey(dir: string, type: KeyType): Promise<string> {
  const [algorithm, size] = type.split(":");
  const path = `${dir}/${type.replace(":", "-")}.pem`;
  const args = algorithm === "rsa"
    ? ["-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${size}`]
    : ["-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${size}`];
  await openssl(["genpkey", ...args, "-out", path]);
  return path;
}

/** The public key as openssl sees it, as a JWK, to compare with what certrole derived. */
async function opensslPublicJwk(base: string, type: KeyType): Promise<JsonWebKey> {
  const spki = Uint8Array.from(
    (await new Deno.Command("openssl", { args: ["pkey", "-in", base, "-pubout", "-outform", "DER"], stdout: "piped" })
      .output()).stdout,
  );
  const algorithm = type.startsWith("rsa")
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: type.split(":")[1] };
  return await crypto.subtle.exportKey("jwk", await crypto.subtle.importKey("spki", spki, algorithm, true, ["verify"]));
}

interface Variant {
  readonly name: string;
  readonly args: (base: string, out: string) => string[];
  readonly encrypted: boolean;
}

const traditional = (type: KeyType) => (type.startsWith("rsa") ? "rsa" : "ec");

function variants(type: KeyType, full: boolean): Variant[] {
  const plain: Variant[] = [
    { name: "PKCS#8 PEM", args: (b, o) => ["pkey", "-in", b, "-out", o], encrypted: false },
    { name: "PKCS#8 DER", args: (b, o) => ["pkey", "-in", b, "-outform", "DER", "-out", o], encrypted: false },
    {
      name: type.startsWith("rsa") ? "PKCS#1 PEM" : "SEC1 PEM",
      args: (b, o) => ["pkey", "-in", b, "-traditional", "-out", o],
      encrypted: false,
    },
    {
      name: type.startsWith("rsa") ? "PKCS#1 DER" : "SEC1 DER",
      args: (b, o) => [traditional(type), "-in", b, "-outform", "DER", "-out", o],
      encrypted: false,
    },
  ];
  const pbes2 = (cipher: string, prf: string): Variant => ({
    name: `PBES2 PBKDF2-${prf} ${cipher}`,
    args: (b, o) => ["pkcs8", "-topk8", "-in", b, "-v2", cipher, "-v2prf", prf, "-passout", `pass:${PASS}`, "-out", o],
    encrypted: true,
  });
  const legacy = (cipher: string): Variant => ({
    name: `legacy PEM ${cipher}`,
    // `openssl ec` always writes SEC1; `openssl rsa` needs -traditional for PKCS#1.
    args: (
      b,
      o,
    ) => [
      traditional(type),
      "-in",
      b,
      `-${cipher}`,
      ...(type.startsWith("rsa") ? ["-traditional"] : []),
      "-passout",
      `pass:${PASS}`,
      "-out",
      o,
    ],
    encrypted: true,
  });
  const encrypted: Variant[] = full
    ? [
      ...["aes-128-cbc", "aes-192-cbc", "aes-256-cbc", "des-ede3-cbc"].flatMap((cipher) =>
        ["hmacWithSHA1", "hmacWithSHA256", "hmacWithSHA384", "hmacWithSHA512"].map((prf) => pbes2(cipher, prf))
      ),
      {
        name: "PBES2 scrypt aes-256-cbc",
        args: (
          b,
          o,
        ) => ["pkcs8", "-topk8", "-in", b, "-scrypt", "-v2", "aes-256-cbc", "-passout", `pass:${PASS}`, "-out", o],
        encrypted: true,
      },
      {
        name: "PBES1 SHA1-3DES",
        args: (b, o) => ["pkcs8", "-topk8", "-in", b, "-v1", "PBE-SHA1-3DES", "-passout", `pass:${PASS}`, "-out", o],
        encrypted: true,
      },
      {
        name: "PBES2 DER",
        args: (
          b,
          o,
        ) => [
          "pkcs8",
          "-topk8",
          "-in",
          b,
          "-v2",
          "aes-256-cbc",
          "-outform",
          "DER",
          "-passout",
          `pass:${PASS}`,
          "-out",
          o,
        ],
        encrypted: true,
      },
      ...["aes128", "aes192", "aes256", "des3"].map(legacy),
    ]
    : [pbes2("aes-256-cbc", "hmacWithSHA256"), pbes2("des-ede3-cbc", "hmacWithSHA256"), legacy("aes256")];
  return [...plain, ...encrypted];
}

const TYPES: readonly [KeyType, boolean][] = [
  ["rsa:2048", true],
  ["ec:P-256", true],
  ["rsa:3072", false],
  ["rsa:4096", false],
  ["ec:P-384", false],
];

for (const [type, full] of TYPES) {
  Deno.test(`${type}: every OpenSSL format loads with the right public key`, async (t) => {
    const dir = await tempDir();
    const base = await baseKey(dir, type);
    const expected = await opensslPublicJwk(base, type);
    for (const [index, variant] of variants(type, full).entries()) {
      await t.step(variant.name, async () => {
        const out = `${dir}/variant-${index}`;
        await openssl(variant.args(base, out));
        const key = await privateKeyFromBytes(
          await Deno.readFile(out),
          out,
          variant.encrypted ? { value: PASS, source: "test" } : undefined,
        );
        assert.equal(key.encrypted, variant.encrypted);
        assert.equal(key.type, type.startsWith("rsa") ? "RSA" : "EC");
        for (const field of type.startsWith("rsa") ? ["n", "e"] as const : ["x", "y", "crv"] as const) {
          assert.equal(key.publicJwk[field], expected[field], `${field} differs from openssl's public key`);
        }
        assert.equal((key.signingKey as CryptoKey).extractable, false);
      });
    }
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("the PBKDF2-HMAC-SHA1 variant really omits the PRF (the form AWS Certificate Manager exports)", async () => {
  const dir = await tempDir();
  const base = await baseKey(dir, "ec:P-256");
  await openssl([
    "pkcs8",
    "-topk8",
    "-in",
    base,
    "-v2",
    "aes-256-cbc",
    "-v2prf",
    "hmacWithSHA1",
    "-passout",
    `pass:${PASS}`,
    "-out",
    `${dir}/k.pem`,
  ]);
  const parsed = await run("openssl", ["asn1parse", "-in", `${dir}/k.pem`]);
  assert.match(parsed.stdout, /PBKDF2/);
  assert.doesNotMatch(parsed.stdout, /hmacWith/);
  const key = await privateKeyFromBytes(await Deno.readFile(`${dir}/k.pem`), "k.pem", { value: PASS, source: "test" });
  assert.equal(key.description, "EC P-256");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the walkthrough's own key commands produce keys certrole loads", async () => {
  const dir = await tempDir();
  // openssl genrsa -aes256 -out ca-key.pem 2048
  await openssl(["genrsa", "-aes256", "-passout", `pass:${PASS}`, "-out", `${dir}/ca-key.pem`, "2048"]);
  // openssl req -newkey rsa:2048 -days 1 -keyout key.pem -out csr.pem (PBES2 with DES-EDE3-CBC)
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-days",
    "1",
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/csr.pem`,
    "-subj",
    "/CN=myContainer",
    "-passout",
    `pass:${PASS}`,
  ]);
  const req = await run("openssl", ["asn1parse", "-in", `${dir}/key.pem`]);
  assert.match(
    req.stdout,
    /des-ede3-cbc/,
    "openssl req still writes DES-EDE3-CBC keys, which Deno's node:crypto cannot open",
  );
  for (const file of ["ca-key.pem", "key.pem"]) {
    const key = await privateKeyFromBytes(await Deno.readFile(`${dir}/${file}`), file, { value: PASS, source: "test" });
    assert.equal(key.description, "RSA-2048");
  }
  await Deno.remove(dir, { recursive: true });
});
