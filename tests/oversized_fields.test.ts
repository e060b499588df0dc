/**
 * Oversized fields and files are refused in one line, fast: DER INTEGERs are read in linear time
 * (a 200 KB serial took 15.8 s in read-certificate-data), a serial longer than 64 bytes is
 * refused while one of 64 (RFC 5280 allows 20; some CAs wrote more) reads as openssl reads it,
 * a certificate version other than 1-3 is refused, and certificate and key files over 1 MiB
 * are not read.
 */
import assert from "node:assert/strict";
import { integer, readDocument, readInteger, tlv } from "../cli/identity/der.ts";
import { assertOneLineRefusal, certroleWithin, withTbsField } from "./support/hostile_files.ts";
import { openssl, tempDir } from "./support/run.ts";

const dir = await tempDir();
const key = `${dir}/key.pem`;
const cert = `${dir}/cert.pem`;
await openssl([
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-noenc",
  "-keyout",
  key,
  "-out",
  cert,
  "-subj",
  "/CN=oversized",
  "-days",
  "2",
]);
const der = Uint8Array.fromBase64(
  (await Deno.readTextFile(cert)).replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, ""),
);

function readCertificateData(path: string) {
  return certroleWithin(20_000, {}, ["read-certificate-data", "--certificate", path]);
}

Deno.test("a DER INTEGER of 256 KB is read in linear time", () => {
  const node = readDocument(integer(new Uint8Array(256 * 1024).fill(0x5a)));
  const started = performance.now();
  const value = readInteger(node);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(value % 256n, 0x5an);
  assert.ok(seconds < 5, `took ${seconds} s (a quadratic reader takes tens of seconds)`);
});

Deno.test("a 300 KB serial and a 500 KB version are refused in one line, at once", async () => {
  const serial = `${dir}/serial-300k.pem`;
  await Deno.writeTextFile(serial, withTbsField(der, 1, integer(new Uint8Array(300_000).fill(0x5a))));
  assertOneLineRefusal(
    await readCertificateData(serial),
    /is not a valid X\.509 certificate \(malformed DER: the serial number is 300000 bytes long \(RFC 5280 allows 20; certrole reads up to 64\)\)/,
  );
  const version = `${dir}/version-500k.pem`;
  await Deno.writeTextFile(version, withTbsField(der, 0, tlv(0xa0, integer(new Uint8Array(500_000).fill(0x11)))));
  assertOneLineRefusal(await readCertificateData(version), /malformed DER: certificate version out of range/);
  const v4 = `${dir}/version-4.pem`;
  await Deno.writeTextFile(v4, withTbsField(der, 0, tlv(0xa0, integer(3n))));
  assertOneLineRefusal(await readCertificateData(v4), /certificate version 4 is not 1, 2 or 3/);
});

Deno.test("a 64-byte serial reads as openssl reads it; 65 bytes are refused", async () => {
  for (const [bytes, accepted] of [[64, true], [65, false]] as const) {
    const hex = "7f" + "a5".repeat(bytes - 1);
    const path = `${dir}/serial-${bytes}.pem`;
    await openssl(["x509", "-in", cert, "-key", key, "-set_serial", `0x${hex}`, "-out", path]);
    const opensslSerial = (await openssl(["x509", "-in", path, "-noout", "-serial"])).replace(/serial=|\\\n|\s/g, "");
    assert.equal(opensslSerial.toLowerCase(), hex);
    const result = await readCertificateData(path);
    if (accepted) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).serialNumber, BigInt(`0x${hex}`).toString(10));
    } else {
      assertOneLineRefusal(result, /the serial number is 65 bytes long/);
    }
  }
});

Deno.test("certificate and key files over 1 MiB are not read", async () => {
  const big = `${dir}/big-cert.pem`;
  // A valid certificate followed by 2 MiB of commentary: a wrong file, not one to parse.
  await Deno.writeTextFile(big, (await Deno.readTextFile(cert)) + "# padding\n".repeat(200_000));
  assertOneLineRefusal(
    await readCertificateData(big),
    /certificate file ".*big-cert\.pem" is 2\d{6} bytes, more than certrole reads \(1048576\): set --certificate or ROLESANYWHERE_CERT_LOCATION to the certificate itself/,
  );
  const bigKey = `${dir}/big-key.pem`;
  await Deno.writeTextFile(bigKey, (await Deno.readTextFile(key)) + "# padding\n".repeat(200_000));
  assertOneLineRefusal(
    await certroleWithin(20_000, { ROLESANYWHERE_CERT_LOCATION: cert, ROLESANYWHERE_KEY_LOCATION: bigKey }),
    /private key file ".*big-key\.pem" is 2\d{6} bytes, more than certrole reads/,
  );
});
