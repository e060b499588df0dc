/**
 * The emulator's CreateSession verifies AWS4-X509-MLDSA: the pure ML-DSA signature over the
 * string to sign with the certificate's ML-DSA-44/65/87 key, and chains where ML-DSA signs or is
 * signed (ML-DSA CA and leaf, an ML-DSA leaf under an RSA CA, an EC leaf under an ML-DSA CA, an
 * ML-DSA intermediate sent in X-Amz-X509-Chain), with the same rules as for RSA and EC: a
 * tampered signature, an algorithm that is not the key's, and a CA that is not the trust anchor
 * are refused. Keys with a seed (hedged) and without (deterministic) both sign in.
 */
import assert from "node:assert/strict";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { type Certificate, parseCertificate } from "../cli/identity/certificate.ts";
import { integer, octetString, oid, sequence } from "../cli/identity/der.ts";
import { privateKeyFromBytes } from "../cli/identity/identity.ts";
import { mlDsaOid } from "../cli/identity/ml_dsa_key.ts";
import type { PrivateKey, SigningAlgorithm } from "../cli/identity/private_key.ts";
import { toPem } from "../cli/identity/pem.ts";
import {
  createCaCertificate,
  createLeafCertificate,
  encodeName,
  generateKeyPair,
} from "../cli/pki/certificate_authority.ts";
import type { KeyType } from "../cli/pki/key_type.ts";
import { createSessionRequest, type SignedRequest, signRequest } from "../cli/signing/sigv4_x509.ts";
import { startWalkthrough } from "./support/emulator.ts";
import { makeCa } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";

x509.cryptoProvider.set(crypto);

const DAY = 86_400_000;
const notBefore = new Date(Date.now() - 60_000);
const notAfter = new Date(Date.now() + DAY);

interface Issued {
  readonly certificate: Certificate;
  readonly key: PrivateKey;
  readonly keys: CryptoKeyPair;
}

async function loaded(keys: CryptoKeyPair): Promise<PrivateKey> {
  return await privateKeyFromBytes(
    new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey)),
    "k",
    undefined,
  );
}

async function ca(type: KeyType, cn = "myPrivateCA"): Promise<Issued> {
  const keys = await generateKeyPair(type);
  const certificate = parseCertificate(
    await createCaCertificate({ keys, subject: encodeName({ cn }), notBefore, notAfter }),
  );
  return { certificate, key: await loaded(keys), keys };
}

async function leaf(issuer: { certificate: Certificate; keys: CryptoKeyPair }, type: KeyType): Promise<Issued> {
  const keys = await generateKeyPair(type);
  const der = await createLeafCertificate({
    issuer: { certificate: issuer.certificate, signingKey: issuer.keys.privateKey },
    publicKey: new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey)),
    subject: encodeName({ cn: "myContainer" }),
    notBefore,
    notAfter,
  });
  return { certificate: parseCertificate(der), key: await loaded(keys), keys };
}

/** An intermediate CA certificate for `keys`, signed by `issuer` (peculiar, as a third-party CA would). */
async function intermediate(issuer: Issued, type: KeyType): Promise<Issued> {
  const keys = await generateKeyPair(type);
  const made = await x509.X509CertificateGenerator.create({
    serialNumber: "0badcafe",
    subject: "CN=pqIntermediate",
    issuer: new x509.Name(Uint8Array.from(issuer.certificate.subject.der)),
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: { name: issuer.keys.privateKey.algorithm.name },
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  return { certificate: parseCertificate(new Uint8Array(made.rawData)), key: await loaded(keys), keys };
}

interface Call {
  readonly anchor: Certificate;
  readonly leaf: Certificate;
  readonly key: PrivateKey;
  readonly chain?: readonly Certificate[];
  readonly algorithm?: SigningAlgorithm;
  readonly mutate?: (signed: SignedRequest) => Record<string, string>;
}

async function call(options: Call) {
  const walkthrough = await startWalkthrough(toPem("CERTIFICATE", options.anchor.der));
  try {
    const signed = await signRequest(
      createSessionRequest({
        endpoint: walkthrough.emulator.url,
        region: "us-east-1",
        trustAnchorArn: walkthrough.trustAnchorArn,
        profileArn: walkthrough.profileArn,
        roleArn: walkthrough.roleArn,
        durationSeconds: 3600,
        certificate: options.leaf,
        intermediates: options.chain ?? [],
        algorithm: options.key.algorithm,
      }, new Date()),
      options.key.signingKey,
    );
    const headers = options.mutate?.(signed) ?? { ...signed.headers };
    delete headers["Host"];
    const response = await fetch(signed.url, { method: "POST", headers, body: signed.body });
    const body = await response.json();
    return { status: response.status, message: body.message as string | undefined, body };
  } finally {
    await walkthrough.emulator.close();
  }
}

Deno.test("ML-DSA CA and ML-DSA leaf, each parameter set: 201 with credentials", async () => {
  for (
    const [caType, leafType] of [["ml-dsa-44", "ml-dsa-65"], ["ml-dsa-65", "ml-dsa-87"], [
      "ml-dsa-87",
      "ml-dsa-44",
    ]] as const
  ) {
    const root = await ca(caType);
    const issued = await leaf(root, leafType);
    const result = await call({ anchor: root.certificate, leaf: issued.certificate, key: issued.key });
    assert.equal(result.status, 201, `${caType} → ${leafType}: ${JSON.stringify(result.body)}`);
    assert.match(result.body.credentialSet[0].credentials.accessKeyId, /^ASIA/);
  }
});

Deno.test("mixed chains: an ML-DSA leaf under RSA (openssl's CA) and EC CAs, RSA and EC leaves under ML-DSA CAs", async () => {
  const dir = await tempDir();
  const opensslCa = await makeCa(dir);
  const rsaRoot = {
    certificate: parseCertificate(
      Uint8Array.fromBase64(
        (await Deno.readTextFile(opensslCa.cert)).split("\n").filter((l) => l && !l.startsWith("-----")).join(""),
      ),
    ),
    keys: {
      privateKey: (await privateKeyFromBytes(await Deno.readFile(opensslCa.key), "ca", {
        value: opensslCa.passphrase!,
        source: "test",
      })).signingKey as CryptoKey,
      publicKey: undefined as unknown as CryptoKey,
    },
  };
  const cases: [string, { certificate: Certificate; keys: CryptoKeyPair }, KeyType][] = [
    ["RSA CA → ML-DSA-65", rsaRoot, "ml-dsa-65"],
    ["EC P-384 CA → ML-DSA-87", await ca("ec-p384"), "ml-dsa-87"],
    ["ML-DSA-65 CA → RSA-2048", await ca("ml-dsa-65"), "rsa-2048"],
    ["ML-DSA-44 CA → EC P-256", await ca("ml-dsa-44"), "ec-p256"],
  ];
  for (const [name, root, leafType] of cases) {
    const issued = await leaf(root, leafType);
    const result = await call({ anchor: root.certificate, leaf: issued.certificate, key: issued.key });
    assert.equal(result.status, 201, `${name}: ${JSON.stringify(result.body)}`);
  }
});

Deno.test("an ML-DSA intermediate in X-Amz-X509-Chain links an ML-DSA leaf to an RSA trust anchor", async () => {
  const root = await ca("rsa-2048");
  const middle = await intermediate(root, "ml-dsa-65");
  const issued = await leaf(middle, "ml-dsa-44");
  const ok = await call({
    anchor: root.certificate,
    leaf: issued.certificate,
    key: issued.key,
    chain: [middle.certificate],
  });
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
  const missing = await call({ anchor: root.certificate, leaf: issued.certificate, key: issued.key });
  assert.equal(missing.status, 403);
  assert.equal(missing.message, "Untrusted signing certificate");
});

Deno.test("refused: a tampered ML-DSA signature, another CA, an algorithm that is not the key's", async () => {
  const root = await ca("ml-dsa-65");
  const issued = await leaf(root, "ml-dsa-65");
  const tampered = await call({
    anchor: root.certificate,
    leaf: issued.certificate,
    key: issued.key,
    mutate: (signed) => {
      const [head, signature] = signed.authorization.split("Signature=");
      const flipped = (parseInt(signature[100], 16) ^ 1).toString(16);
      return {
        ...signed.headers,
        Authorization: `${head}Signature=${signature.slice(0, 100)}${flipped}${signature.slice(101)}`,
      };
    },
  });
  assert.equal(tampered.status, 403);
  assert.equal(tampered.message, "Invalid signature");

  const stranger = await ca("ml-dsa-65", "myPrivateCA"); // same name, another key
  const untrusted = await call({ anchor: stranger.certificate, leaf: issued.certificate, key: issued.key });
  assert.equal(untrusted.status, 403);
  assert.equal(untrusted.message, "Untrusted signing certificate");

  // The ML-DSA signature labelled as RSA, and an RSA signature labelled as ML-DSA.
  const relabel = (from: string, to: string) => (signed: SignedRequest) => ({
    ...signed.headers,
    Authorization: signed.authorization.replace(from, to),
  });
  const asRsa = await call({
    anchor: root.certificate,
    leaf: issued.certificate,
    key: issued.key,
    mutate: relabel("AWS4-X509-MLDSA", "AWS4-X509-RSA-SHA256"),
  });
  assert.equal(asRsa.status, 403);
  const rsaRoot = await ca("rsa-2048");
  const rsaLeaf = await leaf(rsaRoot, "rsa-2048");
  const asMlDsa = await call({
    anchor: rsaRoot.certificate,
    leaf: rsaLeaf.certificate,
    key: rsaLeaf.key,
    mutate: relabel("AWS4-X509-RSA-SHA256", "AWS4-X509-MLDSA"),
  });
  assert.equal(asMlDsa.status, 403);
});

Deno.test("a key without its seed (expanded form) signs a CreateSession the emulator accepts", async () => {
  const root = await ca("ml-dsa-87");
  const issued = await leaf(root, "ml-dsa-87");
  const seed = new Uint8Array(await crypto.subtle.exportKey("raw-seed" as "raw", issued.keys.privateKey));
  const { ml_dsa87 } = await import("@noble/post-quantum/ml-dsa.js");
  const pkcs8 = sequence(
    integer(0n),
    sequence(oid(mlDsaOid("ML-DSA-87"))),
    octetString(octetString(ml_dsa87.keygen(seed).secretKey)),
  );
  const key = await privateKeyFromBytes(pkcs8, "expanded", undefined);
  assert.equal(key.mlDsaForm, "expanded");
  const result = await call({ anchor: root.certificate, leaf: issued.certificate, key });
  assert.equal(result.status, 201, JSON.stringify(result.body));
});
