/**
 * `make bench`: timings a user would feel, measured against the emulator on loopback, printed as
 * tables (not tests: numbers depend on the machine):
 * - `certrole credential-process` cold and cached, median and p95;
 * - for ML-DSA-44/65/87 (certrole pki keys and certificates): one signature over a string to
 *   sign (WebCrypto, and without the seed through @noble/post-quantum), and a cold
 *   credential-process;
 * - CreateSession against `certrole emulator` running as its own process, over HTTP and HTTPS:
 *   median and p99 of one call (sign, fresh connection and TLS handshake as certrole's client
 *   makes them, the emulator's signature, chain and trust-policy checks), and throughput with
 *   200 concurrent clients, which must see zero errors.
 *
 *   deno run -A scripts/bench.ts [--runs N] [--sessions N]
 */
import $ from "dax-sh";
import { parseArgs } from "node:util";
import { createProfile, createRole, createTrustAnchor, putRolePolicy } from "../cli/emulator/resources.ts";
import { startEmulator } from "../cli/emulator/server.ts";
import { permissionsPolicy, trustPolicy } from "../cli/iam/documents.ts";
import { certificateFromBytes, privateKeyFromBytes } from "../cli/identity/identity.ts";
import { integer, octetString, oid, sequence } from "../cli/identity/der.ts";
import { mlDsaOid } from "../cli/identity/ml_dsa_key.ts";
import type { MlDsaParameterSet } from "../cli/identity/oids.ts";
import { createSessionRequest, signBytes, signRequest } from "../cli/signing/sigv4_x509.ts";
import { send } from "../cli/transport/http_client.ts";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "30" }, sessions: { type: "string", default: "500" } },
});
const RUNS = Number(values.runs);
const SESSIONS = Number(values.sessions);
const root = new URL("..", import.meta.url).pathname;

await $`${Deno.execPath()} run -A ${root}scripts/build.ts --out ${root}dist`.quiet();
const certrole = `${root}dist/certrole`;

const work = await Deno.makeTempDir({ prefix: "certrole-bench-" });
const passphrase = "bench-passphrase";
await $`openssl req -x509 -newkey rsa:2048 -noenc -keyout ${work}/ca-key.pem -out ${work}/ca-cert.pem -days 2 -subj /CN=benchCA -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`
  .quiet();
await $`openssl req -newkey rsa:2048 -keyout ${work}/key.pem -passout pass:${passphrase} -out ${work}/csr.pem -subj /CN=myContainer`
  .quiet();
// The walkthrough's v3.ext: without it openssl makes an X.509 v1 certificate, which Roles Anywhere refuses.
await Deno.writeTextFile(
  `${work}/v3.ext`,
  "authorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n",
);
await $`openssl x509 -req -in ${work}/csr.pem -CA ${work}/ca-cert.pem -CAkey ${work}/ca-key.pem -set_serial 77 -days 1 -out ${work}/cert.pem -extfile ${work}/v3.ext -sha256`
  .quiet();

const emulator = await startEmulator();
const now = new Date();
const role = createRole(emulator.state, {
  roleName: "bucket-lister",
  assumeRolePolicyDocument: JSON.stringify(trustPolicy({ cn: "myContainer" })),
}, now);
putRolePolicy(
  emulator.state,
  role.roleName,
  "list",
  JSON.stringify(permissionsPolicy({ allow: ["s3:ListAllMyBuckets"] })),
);
const anchor = createTrustAnchor(emulator.state, {
  name: "bench",
  enabled: true,
  source: {
    sourceType: "CERTIFICATE_BUNDLE",
    sourceData: { x509CertificateData: await Deno.readTextFile(`${work}/ca-cert.pem`) },
  },
}, now);
const profile = createProfile(emulator.state, { name: "bench", roleArns: [role.arn], enabled: true }, now);

const env = {
  ROLESANYWHERE_CERT_LOCATION: `${work}/cert.pem`,
  ROLESANYWHERE_KEY_LOCATION: `${work}/key.pem`,
  ROLESANYWHERE_KEY_PASSPHRASE: passphrase,
  ROLESANYWHERE_TRUST_ANCHOR_ARN: anchor.trustAnchorArn,
  ROLESANYWHERE_PROFILE_ARN: profile.profileArn,
  ROLESANYWHERE_ROLE_ARN: role.arn,
  ROLESANYWHERE_ENDPOINT: emulator.url,
  ROLESANYWHERE_CACHE_DIR: `${work}/cache`,
  HOME: work,
};

async function time(args: string[], extraEnv: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(certrole, {
    args,
    env: { ...env, ...extraEnv },
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - started;
  if (!output.success) throw new Error(`certrole ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
  return elapsed;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

const rows: [string, string, string, string][] = [];
async function measure(name: string, run: () => Promise<number>) {
  await run(); // warm the OS and V8 code caches
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await run());
  samples.sort((a, b) => a - b);
  rows.push([name, percentile(samples, 0.5).toFixed(1), percentile(samples, 0.95).toFixed(1), String(RUNS)]);
}

await measure(
  "credential-process, cold (--no-cache: decrypt key, CreateSession)",
  () => time(["credential-process", "--no-cache"]),
);
await time(["credential-process"]);
await measure("credential-process, cached", () => time(["credential-process"]));
await measure(
  "exec -- true, preflight with CreateSession (--no-cache)",
  () => time(["exec", "--no-cache", "--", "true"]),
);
await measure("exec -- true, preflight from the cache", () => time(["exec", "--", "true"]));
await measure(
  "exec -- true, ROLESANYWHERE_PREFLIGHT=false",
  () => time(["exec", "--", "true"], { ROLESANYWHERE_PREFLIGHT: "false" }),
);
await measure("/bin/true without certrole (process spawn floor)", async () => {
  const started = performance.now();
  await new Deno.Command("true").output();
  return performance.now() - started;
});
await measure("certrole version (runtime start-up floor)", () => time(["version"]));

/** An ML-DSA CA and leaf from certrole pki (plain keys), its trust anchor, and the leaf's key without its seed. */
async function mlDsaIdentity(parameterSet: MlDsaParameterSet) {
  const dir = `${work}/${parameterSet}`;
  await Deno.mkdir(dir);
  const type = parameterSet.toLowerCase();
  await $`${certrole} pki init-ca --cn benchCA --key-type ${type} --no-passphrase`.cwd(dir).quiet();
  await $`${certrole} pki issue --cn myContainer --key-type ${type} --no-passphrase`.cwd(dir).quiet();
  const trustAnchor = createTrustAnchor(emulator.state, {
    name: parameterSet,
    enabled: true,
    source: {
      sourceType: "CERTIFICATE_BUNDLE",
      sourceData: { x509CertificateData: await Deno.readTextFile(`${dir}/ca-cert.pem`) },
    },
  }, now);
  const seedKey = await privateKeyFromBytes(await Deno.readFile(`${dir}/key.pem`), "key.pem", undefined);
  return { dir, trustAnchor, seedKey };
}

const stringToSignSample = "AWS4-X509-MLDSA\n20261201T120000Z\n20261201/us-east-1/rolesanywhere/aws4_request\n" +
  "3d79692ccfcf62d75f121b47a1ad53876b0771b3f34553b2698ffefee7ddfcd9";
const { ml_dsa44, ml_dsa65, ml_dsa87 } = await import("@noble/post-quantum/ml-dsa.js");
const NOBLE = { "ML-DSA-44": ml_dsa44, "ML-DSA-65": ml_dsa65, "ML-DSA-87": ml_dsa87 } as const;
const signRows: [string, string, string, string][] = [];
for (const parameterSet of ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"] as const) {
  const identity = await mlDsaIdentity(parameterSet);
  // The same key without its seed: the seed is the last 32 bytes of key.pem's PKCS#8 (seed form).
  const pkcs8 = Uint8Array.fromBase64(
    (await Deno.readTextFile(`${identity.dir}/key.pem`)).split("\n").filter((line) => !line.startsWith("-----")).join(
      "",
    ),
  );
  const expanded = NOBLE[parameterSet].keygen(pkcs8.subarray(-32)).secretKey;
  const expandedKey = await privateKeyFromBytes(
    sequence(integer(0n), sequence(oid(mlDsaOid(parameterSet))), octetString(octetString(expanded))),
    "expanded",
    undefined,
  );
  for (
    const [form, key] of [["WebCrypto, hedged", identity.seedKey], [
      "no seed, noble, deterministic",
      expandedKey,
    ]] as const
  ) {
    const samples: number[] = [];
    for (let i = 0; i < 20 + RUNS * 5; i++) {
      const started = performance.now();
      await signBytes("AWS4-X509-MLDSA", key.signingKey, stringToSignSample);
      if (i >= 20) samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    signRows.push([
      `${parameterSet} signature (${form})`,
      percentile(samples, 0.5).toFixed(2),
      percentile(samples, 0.95).toFixed(2),
      String(samples.length),
    ]);
  }
  await measure(
    `credential-process, cold, ${parameterSet} (plain key, CreateSession)`,
    () =>
      time(["credential-process", "--no-cache"], {
        ROLESANYWHERE_CERT_LOCATION: `${identity.dir}/cert.pem`,
        ROLESANYWHERE_KEY_LOCATION: `${identity.dir}/key.pem`,
        ROLESANYWHERE_TRUST_ANCHOR_ARN: identity.trustAnchor.trustAnchorArn,
      }),
  );
}

await emulator.close();

/**
 * `certrole emulator` as its own process (state in memory, the default), seeded through its
 * API by `certrole iam setup`, as a user would.
 */
async function spawnEmulator(tls: boolean) {
  const ready = `${work}/ready-${crypto.randomUUID()}`;
  const bundle = `${work}/emulator-ca.pem`;
  const child = new Deno.Command(certrole, {
    args: ["emulator", "--port", "0", "--ready-file", ready, ...(tls ? ["--tls", "--ca-bundle", bundle] : [])],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let printed = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) printed += chunk;
  })();
  for (let i = 0; i < 400 && !printed.includes("AWS_DEFAULT_REGION"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const url = (await Deno.readTextFile(ready)).trim();
  const exports = Object.fromEntries(
    [...printed.matchAll(/^export (\w+)=(.*)$/gm)].map(([, name, value]) => [name, value.replace(/^'|'$/g, "")]),
  );
  const setup = await new Deno.Command(certrole, {
    args: [
      "iam",
      "setup",
      "--role-name",
      "bucket-lister",
      "--cn",
      "myContainer",
      "--ca",
      `${work}/ca-cert.pem`,
      "--allow",
      "s3:ListAllMyBuckets",
      "--json",
    ],
    env: exports,
  }).output();
  if (!setup.success) throw new Error(`iam setup failed: ${new TextDecoder().decode(setup.stderr)}`);
  const arns = JSON.parse(new TextDecoder().decode(setup.stdout));
  const caCerts = tls ? [await Deno.readTextFile(bundle)] : undefined;
  return {
    url,
    caCerts,
    arns,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await reading;
    },
  };
}

const certificate = certificateFromBytes(await Deno.readFile(`${work}/cert.pem`), "cert.pem");
const key = await privateKeyFromBytes(await Deno.readFile(`${work}/key.pem`), "key.pem", {
  value: passphrase,
  source: "bench",
});

/** One CreateSession as certrole's client makes it: sign now, new connection, read the answer. */
async function createSessionOnce(
  url: string,
  caCerts: string[] | undefined,
  arns: { trustAnchorArn: string; profileArn: string; roleArn: string },
): Promise<number> {
  const started = performance.now();
  const signed = await signRequest(
    createSessionRequest({
      endpoint: url,
      region: "us-east-1",
      ...arns,
      durationSeconds: 3600,
      certificate,
      intermediates: [],
      algorithm: key.algorithm,
    }, new Date()),
    key.signingKey,
  );
  const response = await send(
    { method: "POST", url: signed.url, headers: signed.headers, body: signed.body },
    { caCerts, connectTimeoutMs: 10_000, totalTimeoutMs: 30_000 },
  );
  if (response.status !== 201) {
    throw new Error(`CreateSession answered ${response.status}: ${new TextDecoder().decode(response.body)}`);
  }
  return performance.now() - started;
}

const sessionRows: [string, string, string, string][] = [];
const throughputRows: [string, string, string, string][] = [];
const CLIENTS = 200;
for (const tls of [false, true]) {
  const scheme = tls ? "HTTPS" : "HTTP";
  const server = await spawnEmulator(tls);
  try {
    for (let i = 0; i < 20; i++) await createSessionOnce(server.url, server.caCerts, server.arns);
    const samples: number[] = [];
    for (let i = 0; i < SESSIONS; i++) samples.push(await createSessionOnce(server.url, server.caCerts, server.arns));
    samples.sort((a, b) => a - b);
    sessionRows.push([
      `CreateSession over ${scheme}, one client`,
      percentile(samples, 0.5).toFixed(2),
      percentile(samples, 0.99).toFixed(2),
      String(SESSIONS),
    ]);
    const perClient = 10;
    let errors = 0;
    let firstError = "";
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = 0; i < perClient; i++) {
          try {
            await createSessionOnce(server.url, server.caCerts, server.arns);
          } catch (error) {
            errors++;
            firstError ||= String(error);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const total = CLIENTS * perClient;
    throughputRows.push([
      `CreateSession over ${scheme}, ${CLIENTS} concurrent clients`,
      (total / seconds).toFixed(0),
      String(errors),
      String(total),
    ]);
    if (errors) console.error(`${errors} errors, first: ${firstError}`);
  } finally {
    await server.stop();
  }
}
await Deno.remove(work, { recursive: true });

function table(header: [string, string, string, string], body: [string, string, string, string][]): string {
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((row) => row[column].length)));
  const line = (row: string[]) =>
    `| ${
      row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])).join(" | ")
    } |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

console.log(table(["benchmark", "median ms", "p95 ms", "runs"], rows));
console.log();
console.log(table(["benchmark (in process)", "median ms", "p95 ms", "signatures"], signRows));
console.log();
console.log(table(["benchmark", "median ms", "p99 ms", "requests"], sessionRows));
console.log();
console.log(table(["benchmark", "requests/s", "errors", "requests"], throughputRows));
const failed = throughputRows.some((row) => row[2] !== "0");
if (failed) Deno.exit(1);
