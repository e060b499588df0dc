/**
 * Keys and certificates that parse as DER but are not valid keys, or lack a field, end in one
 * line naming the file (exit 1), not in "internal error" with a stack trace (exit 70, as each
 * did): EC private scalars of 0, n, above n or too long; an RSA key whose parts disagree (q and dP
 * swapped: Deno imports it and fails at the first signature); a certificate whose EC point is
 * off the curve; a Validity without notAfter, or empty; text from the file (a time value, a
 * DEK-Info name) with control characters in it. A scalar with its leading zeros dropped, which
 * OpenSSL reads, still loads.
 */
import assert from "node:assert/strict";
import { encodedOf, integer, octetString, oid, readDocument, sequence, sequenceOf, tlv } from "../cli/identity/der.ts";
import { privateKeyFromBytes } from "../cli/identity/identity.ts";
import { OID } from "../cli/identity/oids.ts";
import { toPem } from "../cli/identity/pem.ts";
import {
  assertOneLineRefusal,
  certroleWithin,
  notBeforeOf,
  offCurveP256PublicKey,
  withTbsField,
} from "./support/hostile_files.ts";
import { openssl, tempDir } from "./support/run.ts";

const dir = await tempDir();

async function selfSigned(name: string, newkey: string[]): Promise<{ cert: string; key: string; der: Uint8Array }> {
  const key = `${dir}/${name}-key.pem`;
  const cert = `${dir}/${name}-cert.pem`;
  await openssl([
    "req",
    "-x509",
    ...newkey,
    "-noenc",
    "-keyout",
    key,
    "-out",
    cert,
    "-subj",
    `/CN=${name}`,
    "-days",
    "2",
  ]);
  const der = Uint8Array.fromBase64(
    (await Deno.readTextFile(cert)).replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""),
  );
  return { cert, key, der };
}

const ec = await selfSigned("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
const rsa = await selfSigned("rsa", ["-newkey", "rsa:2048"]);

function run(cert: string, key: string) {
  return certroleWithin(20_000, { ROLESANYWHERE_CERT_LOCATION: cert, ROLESANYWHERE_KEY_LOCATION: key });
}

const P256_ORDER = Uint8Array.fromHex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const P256_GX = Uint8Array.fromHex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");

/** A PKCS#8 P-256 key with this scalar and no public key (so nothing else can reveal it is bad). */
function p256Key(scalar: Uint8Array): string {
  const sec1 = sequence(integer(1n), octetString(scalar));
  return toPem(
    "PRIVATE KEY",
    sequence(integer(0n), sequence(oid(OID.ecPublicKey), oid(OID.prime256v1)), octetString(sec1)),
  );
}

Deno.test("EC private scalars of 0, n, above n or too long are a corrupt key file", async () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["zero", new Uint8Array(32), /its P-256 private scalar is not between 1 and the curve order/],
    ["order", P256_ORDER, /its P-256 private scalar is not between 1 and the curve order/],
    ["all-ones", new Uint8Array(32).fill(0xff), /its P-256 private scalar is not between 1 and the curve order/],
    ["too-long", new Uint8Array(100).fill(1), /its P-256 private scalar is 100 bytes, not 32/],
  ];
  await Promise.all(cases.map(async ([name, scalar, pattern]) => {
    const path = `${dir}/scalar-${name}.pem`;
    await Deno.writeTextFile(path, p256Key(scalar));
    assertOneLineRefusal(
      await run(ec.cert, path),
      new RegExp(`private key file ".*scalar-${name}\\.pem" is corrupt \\(${pattern.source}\\)`),
    );
  }));
  // SEC1 as `openssl ec` writes it, with the public key: same answer.
  const sec1 = `${dir}/scalar-zero-sec1.pem`;
  const [, , parameters, publicKey] = sequenceOf(
    readDocument(Uint8Array.fromBase64(
      (await openssl(["ec", "-in", ec.key])).replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""),
    )),
    "ECPrivateKey",
  );
  await Deno.writeTextFile(
    sec1,
    toPem(
      "EC PRIVATE KEY",
      sequence(integer(1n), octetString(new Uint8Array(32)), encodedOf(parameters), encodedOf(publicKey)),
    ),
  );
  assertOneLineRefusal(await run(ec.cert, sec1), /is corrupt \(its P-256 private scalar is not between 1/);
});

Deno.test("a scalar with its leading zero bytes dropped loads as the curve size (d = 1 gives the base point)", async () => {
  const key = await privateKeyFromBytes(new TextEncoder().encode(p256Key(Uint8Array.of(1))), "d1.pem", undefined);
  assert.equal(key.publicJwk.x, P256_GX.toBase64({ alphabet: "base64url", omitPadding: true }));
});

Deno.test("an RSA key whose parts disagree (q and dP swapped) is a corrupt key file, before any signature is sent", async () => {
  const pkcs1 = Uint8Array.fromBase64(
    (await openssl(["rsa", "-in", rsa.key, "-traditional"])).replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""),
  );
  const fields = sequenceOf(readDocument(pkcs1), "RSAPrivateKey").map(encodedOf);
  [fields[5], fields[6]] = [fields[6], fields[5]]; // q and dP (a mutation the fuzz target found)
  const path = `${dir}/rsa-swapped.pem`;
  await Deno.writeTextFile(path, toPem("RSA PRIVATE KEY", sequence(...fields)));
  assertOneLineRefusal(
    await run(rsa.cert, path),
    /private key file ".*rsa-swapped\.pem" is corrupt \((the private key cannot sign|the private key does not load|its private and public parts disagree)/,
  );
});

Deno.test("a certificate whose EC point is off the curve names the certificate file", async () => {
  const path = `${dir}/off-curve.pem`;
  await Deno.writeTextFile(path, withTbsField(ec.der, 6, offCurveP256PublicKey()));
  assertOneLineRefusal(
    await run(path, ec.key),
    /certificate file ".*off-curve\.pem" holds an invalid EC public key \(.*\): set --certificate or ROLESANYWHERE_CERT_LOCATION/,
  );
});

Deno.test("a Validity without notAfter, or empty, is an invalid certificate, for every command that reads it", async () => {
  for (
    const [name, validity] of [["no-not-after", sequence(notBeforeOf(ec.der))], ["empty-validity", sequence()]] as const
  ) {
    const path = `${dir}/${name}.pem`;
    await Deno.writeTextFile(path, withTbsField(ec.der, 4, validity));
    const pattern =
      /is not a valid X\.509 certificate \(malformed DER: Validity has [01] fields, not notBefore and notAfter\)/;
    assertOneLineRefusal(await run(path, ec.key), pattern);
    assertOneLineRefusal(await certroleWithin(20_000, {}, ["read-certificate-data", "--certificate", path]), pattern);
    // As DER, the same words (it said "neither PEM nor DER" of a DER file with a bad field).
    const derPath = `${dir}/${name}.der`;
    await Deno.writeFile(
      derPath,
      Uint8Array.fromBase64((await Deno.readTextFile(path)).replace(/-----[A-Z ]+-----|\s/g, "")),
    );
    assertOneLineRefusal(await run(derPath, ec.key), pattern);
  }
});

Deno.test("control characters from the file stay escaped on the one line", async () => {
  const time = `${dir}/newline-time.pem`;
  const notBefore = tlv(0x17, new TextEncoder().encode("2501\n01000000Z\r\u001b[31m"));
  await Deno.writeTextFile(time, withTbsField(ec.der, 4, sequence(notBefore, notBefore)));
  const line = assertOneLineRefusal(
    await run(time, ec.key),
    /unsupported time value "2501\\n01000000Z\\r\\u001b\[31m"/,
  );
  assert.ok(!line.includes("\u001b"), "no raw escape character");
  const legacy = `${dir}/dek-info.pem`;
  const body = (await openssl(["ec", "-in", ec.key, "-aes128", "-passout", "pass:x"])).replace(
    /DEK-Info: [^\n]*/,
    "DEK-Info: BF\u001b[2J-CBC,0011223344556677",
  );
  await Deno.writeTextFile(legacy, body);
  const dek = await certroleWithin(20_000, {
    ROLESANYWHERE_CERT_LOCATION: ec.cert,
    ROLESANYWHERE_KEY_LOCATION: legacy,
    ROLESANYWHERE_KEY_PASSPHRASE: "x",
  });
  const dekLine = assertOneLineRefusal(dek, /encrypted with "BF\\u001b\[2J-CBC", which is not supported/);
  assert.ok(!dekLine.includes("\u001b"), "no raw escape character");
});
