/** `certrole read-certificate-data`: the official helper's diagnostic, same JSON. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { fail } from "../errors.ts";
import { CERTIFICATE_FILE, certificateFromBytes, readInputFile } from "../identity/identity.ts";
import { refuseKeyStores, SESSION_FLAGS } from "../session_settings.ts";

export const command: Command = {
  name: "read-certificate-data",
  summary: "print a certificate's key type, serial and base64 DER as JSON",
  usage: "certrole read-certificate-data --certificate FILE",
  description: `
Prints what the signing code reads from a certificate, in the JSON of aws_signing_helper's
command of the same name: keyType (RSA, EC, or the parameter set of an ML-DSA key, e.g.
ML-DSA-65), certificateData (base64 DER, the X-Amz-X509 header), serialNumber (decimal, the
Credential field) and supportedAlgorithms (RSASHA256 ...; for ML-DSA the parameter set alone,
as ML-DSA signs without a digest).`,
  flags: {
    certificate: {
      type: "string",
      value: "FILE",
      env: "ROLESANYWHERE_CERT_LOCATION",
      description: "certificate, PEM or DER",
    },
    // The helper's flags of this command for certificate stores: a line saying what to use instead.
    "cert-selector": SESSION_FLAGS["cert-selector"],
    "system-store-name": SESSION_FLAGS["system-store-name"],
    "use-latest-expiring-certificate": SESSION_FLAGS["use-latest-expiring-certificate"],
    "debug": { ...SESSION_FLAGS.debug, hidden: true, description: "accepted (the helper's flag)" },
  },
  examples: ["certrole read-certificate-data --certificate cert.pem | jq .serialNumber"],
  async run(flags) {
    refuseKeyStores(flags, "give the certificate as a file with --certificate (PEM or DER)");
    const path = flags.values.certificate as string | undefined;
    if (!path) {
      fail(
        "MissingSettings",
        "missing settings: --certificate / ROLESANYWHERE_CERT_LOCATION (the certificate file)",
      );
    }
    const certificate = certificateFromBytes(await readInputFile(path, CERTIFICATE_FILE), path);
    const publicKey = certificate.publicKey;
    const keyType = publicKey.type === "other"
      ? ""
      : publicKey.type === "ML-DSA"
      ? publicKey.parameterSet
      : publicKey.type;
    writeStdout(
      JSON.stringify({
        keyType,
        certificateData: certificate.der.toBase64(),
        serialNumber: certificate.serialDecimal,
        supportedAlgorithms: publicKey.type === "ML-DSA"
          ? [publicKey.parameterSet]
          : ["SHA256", "SHA384", "SHA512"].map((hash) => `${keyType}${hash}`),
      }) + "\n",
    );
    return 0;
  },
};
