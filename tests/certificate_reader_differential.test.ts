/**
 * certrole's own DER/X.509 reader (cli/identity/certificate.ts) reads every certificate the way
 * @peculiar/x509 and its ASN.1 schema (and node:crypto, for key sizes and curves) do: version, serial, names
 * attribute by attribute, validity (UTCTime and GeneralizedTime), key type and size, signature
 * algorithm and bytes, every extension, and the extensions certrole interprets (basic
 * constraints, key usage, extended key usage, subject alternative names, key identifiers). The
 * certificates: every one in tests/fixtures (openssl's, Python's, AWS's helper's), and 120 that
 * @peculiar/x509 makes from a fixed seed with RSA, EC P-256/P-384 and ML-DSA-44/65/87 keys, names of
 * up to 64 characters in several attributes (multi-valued RDNs, non-ASCII text), serials of 1 to
 * 20 bytes, dates from 1950 to 2099 and random sets of extensions.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate as AsnCertificate, Name as AsnName, SubjectAlternativeName } from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";
import { type Certificate, parseCertificate } from "../cli/identity/certificate.ts";
import { ML_DSA } from "../cli/identity/oids.ts";
import { parsePem } from "../cli/identity/pem.ts";
import { generateKeyPair } from "../cli/pki/certificate_authority.ts";
import type { KeyType } from "../cli/pki/key_type.ts";
import { openssl, ROOT } from "./support/run.ts";

x509.cryptoProvider.set(crypto);

const FIXTURES = `${ROOT}/tests/fixtures`;
const CURVE_NAMES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };

/** What certrole's reader says about a certificate, in a shape both readers can fill. */
function certroleView(c: Certificate) {
  const key = c.publicKey;
  return {
    version: c.version,
    serial: c.serial,
    signatureAlgorithm: c.signatureAlgorithm.oid,
    signature: c.signature.toHex(),
    tbs: c.tbs.toHex(),
    issuer: c.issuer.attributes.map(({ oid, value }) => ({ oid, value })),
    issuerDer: c.issuer.der.toHex(),
    subject: c.subject.attributes.map(({ oid, value }) => ({ oid, value })),
    notBefore: c.notBefore.getTime(),
    notAfter: c.notAfter.getTime(),
    spki: key.spki.toHex(),
    key: key.type === "RSA"
      ? `RSA ${key.bits}`
      : key.type === "EC"
      ? `EC ${key.curve}`
      : key.type === "ML-DSA"
      ? `${key.parameterSet} ${key.publicKey.toHex()}`
      : `other ${key.algorithmOid}`,
    extensions: c.extensions.map(({ oid, critical, value }) => ({ oid, critical, value: value.toHex() })),
    basicConstraints: c.basicConstraints && { ...c.basicConstraints },
    keyUsage: c.keyUsage && { ...c.keyUsage },
    extendedKeyUsage: c.extendedKeyUsage && [...c.extendedKeyUsage],
    subjectAltNames: {
      dns: [...c.subjectAltNames.dns],
      uri: [...c.subjectAltNames.uri],
      email: [...c.subjectAltNames.email],
      ip: c.subjectAltNames.ip.map(canonicalIp),
      directoryNames: c.subjectAltNames.directoryNames.map((name) =>
        name.attributes.map(({ oid, value }) => ({ oid, value }))
      ),
    },
    subjectKeyId: c.subjectKeyId?.toHex(),
    authorityKeyId: c.authorityKeyId?.toHex(),
  };
}

function canonicalIp(text: string): string {
  return text.includes(":") ? new URL(`http://[${text}]/`).hostname : text;
}

const hex = (buffer: ArrayBuffer | ArrayBufferView) =>
  (ArrayBuffer.isView(buffer)
    ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    : new Uint8Array(buffer)).toHex();

function nameAttributes(name: AsnName) {
  return Array.from(name).flatMap((rdn) =>
    Array.from(rdn).map((attribute) => ({ oid: attribute.type, value: attribute.value.toString() }))
  );
}

/** The same facts from @peculiar/x509's ASN.1 tree and extension classes, and node:crypto's key details. */
function peculiarView(der: Uint8Array<ArrayBuffer>) {
  const cert = new x509.X509Certificate(der);
  const asn = AsnConvert.parse(der, AsnCertificate);
  const tbs = asn.tbsCertificate;
  const spki = new Uint8Array(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
  const keyOid = tbs.subjectPublicKeyInfo.algorithm.algorithm;
  const details = ML_DSA[keyOid] ? undefined : createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  const key = ML_DSA[keyOid]
    ? `${ML_DSA[keyOid].name} ${hex(tbs.subjectPublicKeyInfo.subjectPublicKey)}`
    : details!.asymmetricKeyType === "rsa"
    ? `RSA ${details!.asymmetricKeyDetails!.modulusLength}`
    : details!.asymmetricKeyType === "ec"
    ? `EC ${CURVE_NAMES[details!.asymmetricKeyDetails!.namedCurve!]}`
    : `other ${keyOid}`;
  const extension = <T extends x509.Extension>(type: new (raw: ArrayBuffer) => T, oid: string) => {
    const found = cert.extensions.find((e) => e.type === oid);
    return found && new type(found.rawData);
  };
  const basic = extension(x509.BasicConstraintsExtension, "2.5.29.19");
  const usage = extension(x509.KeyUsagesExtension, "2.5.29.15");
  const eku = extension(x509.ExtendedKeyUsageExtension, "2.5.29.37");
  const sanValue = tbs.extensions?.find((e) => e.extnID === "2.5.29.17")?.extnValue.buffer;
  const san = sanValue ? Array.from(AsnConvert.parse(sanValue, SubjectAlternativeName)) : undefined;
  const ski = extension(x509.SubjectKeyIdentifierExtension, "2.5.29.14");
  const aki = extension(x509.AuthorityKeyIdentifierExtension, "2.5.29.35");
  const bit = (flag: x509.KeyUsageFlags) => ((usage?.usages ?? 0) & flag) !== 0;
  return {
    version: tbs.version + 1,
    serial: BigInt(`0x${hex(tbs.serialNumber)}`),
    signatureAlgorithm: asn.signatureAlgorithm.algorithm,
    signature: hex(asn.signatureValue),
    tbs: hex(AsnConvert.serialize(tbs)),
    issuer: nameAttributes(tbs.issuer),
    issuerDer: hex(AsnConvert.serialize(tbs.issuer)),
    subject: nameAttributes(tbs.subject),
    notBefore: tbs.validity.notBefore.getTime().getTime(),
    notAfter: tbs.validity.notAfter.getTime().getTime(),
    spki: spki.toHex(),
    key,
    extensions: Array.from(tbs.extensions ?? []).map((e) => ({
      oid: e.extnID,
      critical: e.critical,
      value: hex(e.extnValue.buffer),
    })),
    basicConstraints: basic && {
      ca: basic.ca,
      pathLength: basic.pathLength,
      critical: basic.critical,
    },
    keyUsage: usage && {
      digitalSignature: bit(x509.KeyUsageFlags.digitalSignature),
      nonRepudiation: bit(x509.KeyUsageFlags.nonRepudiation),
      keyEncipherment: bit(x509.KeyUsageFlags.keyEncipherment),
      dataEncipherment: bit(x509.KeyUsageFlags.dataEncipherment),
      keyAgreement: bit(x509.KeyUsageFlags.keyAgreement),
      keyCertSign: bit(x509.KeyUsageFlags.keyCertSign),
      cRLSign: bit(x509.KeyUsageFlags.cRLSign),
      critical: usage.critical,
    },
    extendedKeyUsage: eku && Array.from(eku.usages, String),
    subjectAltNames: {
      dns: san?.flatMap((name) => name.dNSName ?? []) ?? [],
      uri: san?.flatMap((name) => name.uniformResourceIdentifier ?? []) ?? [],
      email: san?.flatMap((name) => name.rfc822Name ?? []) ?? [],
      ip: san?.flatMap((name) => name.iPAddress ?? []).map(canonicalIp) ?? [],
      directoryNames: san?.flatMap((name) => name.directoryName ? [nameAttributes(name.directoryName)] : []) ?? [],
    },
    subjectKeyId: ski?.keyId,
    authorityKeyId: aki?.keyId,
  };
}

function assertSameReading(der: Uint8Array<ArrayBuffer>, what: string) {
  const ours = certroleView(parseCertificate(der));
  const theirs = peculiarView(der);
  assert.deepEqual(ours, theirs, what);
}

async function fixtureCertificates(): Promise<{ what: string; der: Uint8Array<ArrayBuffer> }[]> {
  const found: { what: string; der: Uint8Array<ArrayBuffer> }[] = [];
  async function walk(dir: string) {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith("-cert.der")) found.push({ what: path, der: await Deno.readFile(path) });
      else if (/\.(pem|crt)$/.test(entry.name)) {
        const text = await Deno.readTextFile(path);
        let blocks;
        try {
          blocks = parsePem(text);
        } catch {
          continue; // a deliberately broken fixture: not a certificate to compare
        }
        blocks.filter((block) => block.label === "CERTIFICATE").forEach((block, i) =>
          found.push({ what: `${path} #${i}`, der: block.bytes })
        );
      }
    }
  }
  await walk(FIXTURES);
  return found;
}

Deno.test("every certificate in tests/fixtures reads the same in certrole and @peculiar/x509", async () => {
  const certificates = await fixtureCertificates();
  let compared = 0;
  for (const { what, der } of certificates) {
    try {
      new x509.X509Certificate(der);
    } catch {
      continue; // one peculiar cannot read either: no second opinion to compare with
    }
    assertSameReading(der, what);
    compared++;
  }
  assert.ok(compared >= 15, `compared ${compared} of ${certificates.length} fixture certificates`);
});

/** mulberry32: the same seed gives the same certificates on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("120 generated certificates (RSA, EC, ML-DSA; long names, odd serials, far dates, many extensions) read the same", async () => {
  const next = random(15);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const types: KeyType[] = ["rsa-2048", "ec-p256", "ec-p384", "ml-dsa-44", "ml-dsa-65", "ml-dsa-87"];
  const keys = new Map<KeyType, CryptoKeyPair>();
  for (const type of types) keys.set(type, await generateKeyPair(type));
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.'()+,=/:?";
  const unicode = "äöüßéñçøåЖжЯ中文字日本語한국어🙂";
  /** Up to `max` characters; IA5String attributes (emailAddress, DC) are ASCII by definition. */
  const text = (max: number, ascii = false) => {
    const chars = [...(!ascii && next() < 0.25 ? alphabet + unicode : alphabet)];
    return Array.from({ length: int(1, max) }, () => pick(chars)).join("").trim() || "x";
  };
  const name = () => {
    const rdns: Record<string, string[]>[] = [];
    for (const count = int(1, 6); rdns.length < count;) {
      const type = pick(["CN", "O", "OU", "L", "ST", "C", "DC", "E", "2.5.4.5", "2.5.4.97"]);
      const value = () =>
        type === "C"
          ? pick(["DE", "US", "JP"])
          : type === "E"
          ? `${text(20, true).replace(/[ ,+=]/g, "")}@example.com`
          : type === "DC"
          ? text(63, true)
          : text(64);
      rdns.push({ [type]: next() < 0.15 ? [value(), value()] : [value()] });
    }
    return rdns;
  };
  // UTCTime holds 1950 to 2049; the years at its edges come up often.
  const year = () => next() < 0.3 ? pick([1950, 2049, 2050]) : int(1950, 2099);
  const date = () => new Date(Date.UTC(year(), int(0, 11), int(1, 28), int(0, 23), int(0, 59), int(0, 59)));
  const usages = [
    x509.KeyUsageFlags.digitalSignature,
    x509.KeyUsageFlags.nonRepudiation,
    x509.KeyUsageFlags.keyEncipherment,
    x509.KeyUsageFlags.dataEncipherment,
    x509.KeyUsageFlags.keyAgreement,
    x509.KeyUsageFlags.keyCertSign,
    x509.KeyUsageFlags.cRLSign,
  ];
  const ekus = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.8", "1.2.3.4.5"];
  for (let i = 0; i < 120; i++) {
    const subjectKeys = keys.get(pick(types))!;
    const issuerKeys = keys.get(pick(types))!;
    const extensions: x509.Extension[] = [];
    if (next() < 0.6) {
      extensions.push(
        new x509.BasicConstraintsExtension(next() < 0.5, next() < 0.5 ? int(0, 9) : undefined, next() < 0.5),
      );
    }
    if (next() < 0.6) {
      const flags = usages.filter(() => next() < 0.4).reduce((a, b) => a | b, 0);
      extensions.push(new x509.KeyUsagesExtension(flags || x509.KeyUsageFlags.digitalSignature, next() < 0.5));
    }
    if (next() < 0.5) extensions.push(new x509.ExtendedKeyUsageExtension(ekus.filter(() => next() < 0.5)));
    if (next() < 0.7) {
      const names: x509.JsonGeneralName[] = [];
      for (const count = int(1, 5); names.length < count;) {
        const type = pick(["dns", "url", "email", "ip", "ip6"]);
        names.push(
          type === "dns"
            ? { type, value: `${text(10).replace(/[^a-z0-9]/gi, "") || "a"}.example.com` }
            : type === "url"
            ? { type, value: `spiffe://example.com/ns/${int(0, 99)}/sa/${text(8).replace(/[^a-z0-9]/gi, "") || "x"}` }
            : type === "email"
            ? { type, value: `team${int(0, 99)}@example.com` }
            : type === "ip"
            ? { type, value: [int(0, 255), int(0, 255), int(0, 255), int(0, 255)].join(".") }
            : { type: "ip", value: `2001:db8:${int(0, 0xffff).toString(16)}::${int(1, 0xffff).toString(16)}` },
        );
      }
      extensions.push(new x509.SubjectAlternativeNameExtension(names, next() < 0.3));
    }
    if (next() < 0.5) extensions.push(await x509.SubjectKeyIdentifierExtension.create(subjectKeys.publicKey));
    if (next() < 0.5) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerKeys.publicKey));
    if (next() < 0.2) {
      extensions.push(new x509.Extension("1.3.6.1.4.1.99999.1", next() < 0.5, new Uint8Array(int(0, 40))));
    }
    const [notBefore, notAfter] = [date(), date()].sort((a, b) => a.getTime() - b.getTime());
    const serial = Uint8Array.from({ length: int(1, 20) }, () => int(0, 255));
    serial[0] = (serial[0] & 0x7f) || 1; // positive and minimal, as RFC 5280 asks
    const made = await x509.X509CertificateGenerator.create({
      serialNumber: serial.toHex(),
      subject: name(),
      issuer: name(),
      notBefore,
      notAfter,
      publicKey: subjectKeys.publicKey,
      signingKey: issuerKeys.privateKey,
      signingAlgorithm: issuerKeys.privateKey.algorithm.name === "ECDSA"
        ? { name: "ECDSA", hash: pick(["SHA-256", "SHA-384", "SHA-512"]) }
        : issuerKeys.privateKey.algorithm,
      extensions,
    });
    assertSameReading(new Uint8Array(made.rawData), `generated certificate ${i}:\n${made.toString("pem")}`);
  }
});

Deno.test("openssl's own encodings read the same: GeneralizedTime past 2050, multi-valued RDNs, UTF-8, dirName and IPv6 SANs, a 1025-bit RSA key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "certrole-differential-" });
  try {
    const seeds = `${FIXTURES}/fuzz-seeds`;
    const made = [
      ["rsa-pkcs8.pem", `/CN=ünïcödé name ${"x".repeat(40)}/O=Example+OU=Multi Valued/C=DE`, "-days", "40000"],
      // An RSA modulus whose top byte is not full: its size is not the byte count times 8.
      ["rsa:1025", "/CN=odd size", "-days", "1"],
      ["ec256-pkcs8.pem", "/DC=com/DC=example/CN=myContainer/emailAddress=team@example.com", "-days", "1"],
      [
        "ec384-pkcs8.pem",
        `/CN=${"L".repeat(64)}/O=${"O".repeat(64)}/OU=${"U".repeat(64)}/L=Berlin/ST=Berlin`,
        "-days",
        "9000",
      ],
    ];
    const extensions = [
      "subjectAltName=DNS:a.example.com,IP:10.0.0.1,IP:2001:db8::7,URI:spiffe://example.com/x,email:a@example.com,dirName:dir_sect",
      "basicConstraints=critical,CA:TRUE,pathlen:3",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      "extendedKeyUsage=clientAuth,serverAuth,1.2.3.4",
      "certificatePolicies=1.2.3.4.5",
    ];
    await Deno.writeTextFile(
      `${dir}/openssl.cnf`,
      "[req]\ndistinguished_name = dn\n[dn]\n[dir_sect]\nC = JP\nO = Directory Name\nCN = dir\n",
    );
    const certificates = await Promise.all(made.map(async ([key, subject, ...days], i) => {
      const out = `${dir}/cert-${i}.pem`;
      await openssl([
        "req",
        "-x509",
        "-config",
        `${dir}/openssl.cnf`,
        ...(key.startsWith("rsa:")
          ? ["-newkey", key, "-noenc", "-keyout", `${dir}/key-${i}.pem`]
          : ["-key", `${seeds}/${key}`]),
        "-subj",
        subject,
        "-multivalue-rdn",
        "-utf8",
        "-set_serial",
        i === 0 ? "0x00ff" + "ab".repeat(19) : `${i + 1}`,
        ...days,
        ...extensions.flatMap((extension) => ["-addext", extension]),
        "-out",
        out,
      ]);
      return { what: `${key} ${subject}`, der: parsePem(await Deno.readTextFile(out))[0].bytes };
    }));
    for (const { what, der } of certificates) assertSameReading(der, what);
    // The first runs past 2050, where the validity is a GeneralizedTime.
    assert.ok(parseCertificate(certificates[0].der).notAfter.getUTCFullYear() > 2050);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
