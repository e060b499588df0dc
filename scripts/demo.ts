/**
 * `make demo`: a local end-to-end credential fetch with no AWS account. Makes a CA and a
 * container certificate with openssl (passphrase-protected key), starts certrole's emulator with
 * a trust anchor, role and profile, and runs `certrole credential-process` against it.
 */
import $ from "dax-sh";
import { createProfile, createRole, createTrustAnchor, putRolePolicy } from "../cli/emulator/resources.ts";
import { startEmulator } from "../cli/emulator/server.ts";
import { permissionsPolicy, trustPolicy } from "../cli/iam/documents.ts";
import { RUNTIME_PERMISSIONS } from "../cli/permissions.ts";

const root = new URL("..", import.meta.url).pathname;
const work = `${root}.scratch/demo`;
await Deno.remove(work, { recursive: true }).catch(() => {});
await Deno.mkdir(work, { recursive: true });
let failures = 0;

async function step<T>(title: string, run: () => Promise<T>): Promise<T> {
  try {
    const result = await run();
    console.log(`✓ ${title}`);
    return result;
  } catch (error) {
    failures++;
    console.log(`✗ ${title}: ${error instanceof Error ? error.message : error}`);
    throw error;
  }
}

const passphrase = crypto.randomUUID();
await step("CA and container certificate made with openssl, keys passphrase-protected", async () => {
  await $`openssl genrsa -aes256 -passout env:PASS -out ${work}/ca-key.pem 2048`.env({ PASS: passphrase }).quiet();
  await $`openssl req -new -x509 -days 1095 -key ${work}/ca-key.pem -passin env:PASS -out ${work}/ca-cert.pem -subj /CN=myPrivateCA -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`
    .env({ PASS: passphrase }).quiet();
  await $`openssl req -newkey rsa:2048 -keyout ${work}/key.pem -passout env:PASS -out ${work}/csr.pem -subj /CN=myContainer`
    .env({ PASS: passphrase }).quiet();
  await Deno.writeTextFile(
    `${work}/v3.ext`,
    "authorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n",
  );
  await $`openssl x509 -req -in ${work}/csr.pem -days 1 -CA ${work}/ca-cert.pem -CAkey ${work}/ca-key.pem -passin env:PASS -set_serial 01 -out ${work}/cert.pem -extfile ${work}/v3.ext -sha256`
    .env({ PASS: passphrase }).quiet();
});

const emulator = await step("emulator started", () => startEmulator());
const arns = await step(
  "role bucket-lister (trust policy on CN=myContainer), trust anchor and profile created",
  async () => {
    const now = new Date();
    const role = createRole(emulator.state, {
      roleName: "bucket-lister",
      assumeRolePolicyDocument: JSON.stringify(trustPolicy({ cn: "myContainer" })),
    }, now);
    putRolePolicy(
      emulator.state,
      role.roleName,
      "list-buckets",
      JSON.stringify(permissionsPolicy({ allow: ["s3:ListAllMyBuckets"] })),
    );
    const anchor = createTrustAnchor(emulator.state, {
      name: "myPrivateCA",
      enabled: true,
      source: {
        sourceType: "CERTIFICATE_BUNDLE",
        sourceData: { x509CertificateData: await Deno.readTextFile(`${work}/ca-cert.pem`) },
      },
    }, now);
    const profile = createProfile(emulator.state, { name: "bucket-lister", roleArns: [role.arn], enabled: true }, now);
    return { role: role.arn, anchor: anchor.trustAnchorArn, profile: profile.profileArn };
  },
);

try {
  await step("certrole credential-process returned temporary credentials", async () => {
    const output =
      await $`${Deno.execPath()} run --quiet ${RUNTIME_PERMISSIONS} ${root}cli/main.ts credential-process --no-cache`
        .env({
          ROLESANYWHERE_CERT_LOCATION: `${work}/cert.pem`,
          ROLESANYWHERE_KEY_LOCATION: `${work}/key.pem`,
          ROLESANYWHERE_KEY_PASSPHRASE: passphrase,
          ROLESANYWHERE_TRUST_ANCHOR_ARN: arns.anchor,
          ROLESANYWHERE_PROFILE_ARN: arns.profile,
          ROLESANYWHERE_ROLE_ARN: arns.role,
          ROLESANYWHERE_ENDPOINT: emulator.url,
        }).json();
    console.log(`    AccessKeyId ${output.AccessKeyId}, expires ${output.Expiration}`);
  });
} finally {
  await emulator.close();
}
Deno.exit(failures ? 1 : 0);
