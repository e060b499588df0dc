/** `certrole read-certificate-data` prints the official helper's JSON, and agrees with openssl about the certificate. */
import assert from "node:assert/strict";
import { certrole, openssl, tempDir } from "./support/run.ts";

for (const [name, newkey] of [["RSA", ["rsa:2048"]], ["EC", ["ec", "-pkeyopt", "ec_paramgen_curve:P-384"]]] as const) {
  Deno.test(`${name} certificate, PEM and DER`, async () => {
    const dir = await tempDir();
    await openssl([
      "req",
      "-x509",
      "-newkey",
      ...newkey,
      "-noenc",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
      "-days",
      "1",
      "-subj",
      "/CN=reader",
      "-set_serial",
      "0xF00DFACE0123456789",
    ]);
    await openssl(["x509", "-in", `${dir}/cert.pem`, "-outform", "DER", "-out", `${dir}/cert.der`]);
    const serialHex = (await openssl(["x509", "-in", `${dir}/cert.pem`, "-noout", "-serial"])).trim().split("=")[1];
    const der = await Deno.readFile(`${dir}/cert.der`);
    for (const file of ["cert.pem", "cert.der"]) {
      const result = await certrole(["read-certificate-data", "--certificate", `${dir}/${file}`]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        keyType: name,
        certificateData: der.toBase64(),
        serialNumber: BigInt(`0x${serialHex}`).toString(10),
        supportedAlgorithms: [`${name}SHA256`, `${name}SHA384`, `${name}SHA512`],
      });
    }
    const missing = await certrole(["read-certificate-data"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^certrole: missing settings: --certificate/);
  });
}
