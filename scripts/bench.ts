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
 *   200 concurrent clients, which must see zero errors;
 * - the per-call race: what one `aws s3 ls` (CPU time of the CLI and its credential process,
 *   serve's own CPU apart, wall time) and one boto3 credential fetch pay for credentials (static
 *   keys, credential_process cached, `serve` over the container endpoint and IMDSv2, a cold
 *   CreateSession), run interleaved against the emulator over HTTPS with --latency 50 (a simulated
 *   wide-area round trip on every request); `serve`'s credential GET latency under 200
 *   concurrent clients, its RSS and stop time, and `exec --supervise`'s;
 * - a chunked body of one-byte chunks sent to `certrole emulator` without end: how long until its
 *   413 (any other answer fails the run) and how much its peak RSS grew meanwhile.
 *
 *   deno run -A scripts/bench.ts [--runs N] [--sessions N] [--only commands|emulator|race|body]
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
import { iamSetup, spawnEmulator } from "./emulator_process.ts";
import { parseExports } from "./export_lines.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    sessions: { type: "string", default: "500" },
    only: { type: "string" },
  },
});
const LATENCY_MS = 50;
const wanted = (section: string) => values.only === undefined || values.only === section;
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

if (wanted("commands")) {
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
}

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
for (const parameterSet of wanted("commands") ? ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"] as const : []) {
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

/** `certrole emulator` as its own process (state in memory, the default), seeded for the bench's role. */
async function startEmulatorProcess(tls: boolean, extraArgs: string[] = []) {
  const bundle = `${work}/emulator-ca.pem`;
  const emulator = await spawnEmulator({
    certrole: [certrole],
    args: [...(tls ? ["--tls", "--ca-bundle", bundle] : []), ...extraArgs],
    dir: work,
    readyWithinMs: 10_000,
  });
  const arns = await iamSetup([certrole], emulator, [
    ...["--role-name", "bucket-lister", "--cn", "myContainer", "--ca", `${work}/ca-cert.pem`],
    ...["--allow", "s3:ListAllMyBuckets"],
  ]);
  const caCerts = tls ? [await Deno.readTextFile(bundle)] : undefined;
  return { url: emulator.url, pid: emulator.pid, caCerts, arns, bundle, stop: emulator.stop };
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
for (const tls of wanted("emulator") ? [false, true] : []) {
  const scheme = tls ? "HTTPS" : "HTTP";
  const server = await startEmulatorProcess(tls);
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
const race = wanted("race") ? await perCallRace() : undefined;
const body = wanted("body") ? await oneByteChunks() : undefined;
await Deno.remove(work, { recursive: true });

function table(header: string[], body: string[][]): string {
  const widths = header.map((_, column) => Math.max(...[header, ...body].map((row) => row[column].length)));
  const line = (row: string[]) =>
    `| ${
      row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])).join(" | ")
    } |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

if (rows.length) console.log(table(["benchmark", "median ms", "p95 ms", "runs"], rows), "\n");
if (signRows.length) {
  console.log(table(["benchmark (in process)", "median ms", "p95 ms", "signatures"], signRows), "\n");
}
if (sessionRows.length) console.log(table(["benchmark", "median ms", "p99 ms", "requests"], sessionRows), "\n");
if (throughputRows.length) console.log(table(["benchmark", "requests/s", "errors", "requests"], throughputRows), "\n");
if (race) {
  console.log(`Per-call race: emulator over HTTPS with --latency ${LATENCY_MS} ms on every request`);
  console.log(
    table([
      "one call pays for credentials",
      "aws s3 ls CPU median ms",
      "CPU p95 ms",
      "+ serve's CPU ms",
      "wall median ms",
      "boto3 fetch median ms",
    ], race.calls),
  );
  console.log();
  console.log(table(["serve under load", "median ms", "p95 ms", "p99 ms"], race.load));
  console.log();
  console.log(table(["resident process", "RSS MB (private)", "stop on SIGTERM ms", "note"], race.resident));
}
if (body) {
  console.log(
    table(["one-byte chunks without end", "answer", "ms to answer", "peak RSS growth MB", "chunks sent"], [body]),
  );
  if (body[1] !== "413") console.error(`the emulator answered the endless chunked body with ${body[1]}, not 413`);
}
const failed = throughputRows.some((row) => row[2] !== "0") || (race?.errors ?? 0) > 0 ||
  (body !== undefined && body[1] !== "413");
if (failed) Deno.exit(1);

/** The named fields of /proc/PID/status (VmRSS, RssAnon, VmHWM: kB there) in MB. */
async function memoryMb(pid: number, names: string[]): Promise<number[]> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return names.map((name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))![1]) / 1024);
}

/** RSS, and in brackets the private part (RssAnon): the rest is the Deno binary's pages, shared. */
async function rss(pid: number): Promise<string> {
  const [resident, anonymous] = await memoryMb(pid, ["VmRSS", "RssAnon"]);
  return `${resident.toFixed(0)} (${anonymous.toFixed(0)})`;
}

/** Medians, p95 of `aws s3 ls` and boto3 credential fetches for each credential source. */
async function perCallRace() {
  // The first run of a bundle chunk compiles it and writes Deno's code cache (40 MB more RSS once).
  await time(["serve", "--help"]);
  await time(["exec", "--help"]);
  const server = await startEmulatorProcess(true, ["--latency", String(LATENCY_MS)]);
  const aws = "/usr/bin/aws";
  const base = {
    HOME: work,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    AWS_CA_BUNDLE: server.bundle,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_REGION: "us-east-1",
    AWS_PAGER: "",
    AWS_SHARED_CREDENTIALS_FILE: `${work}/no-credentials`,
    AWS_CONFIG_FILE: `${work}/no-config`,
    AWS_EC2_METADATA_DISABLED: "true",
  };
  const session = {
    ...env,
    ROLESANYWHERE_TRUST_ANCHOR_ARN: server.arns.trustAnchorArn,
    ROLESANYWHERE_PROFILE_ARN: server.arns.profileArn,
    ROLESANYWHERE_ROLE_ARN: server.arns.roleArn,
    ROLESANYWHERE_ENDPOINT: server.url,
    ROLESANYWHERE_CACHE_DIR: `${work}/race-cache`,
    AWS_CA_BUNDLE: server.bundle,
  };
  const processLine = (extra: string) =>
    `[default]\ncredential_process = ${certrole} credential-process ${extra} --certificate ${work}/cert.pem ` +
    `--private-key ${work}/key.pem --trust-anchor-arn ${server.arns.trustAnchorArn} --profile-arn ` +
    `${server.arns.profileArn} --role-arn ${server.arns.roleArn} --endpoint ${server.url}\n`;
  await Deno.writeTextFile(`${work}/cached.config`, processLine(`--cache-dir ${work}/race-cache`));
  await Deno.writeTextFile(`${work}/cold.config`, processLine("--no-cache"));
  const processEnv = { ROLESANYWHERE_KEY_PASSPHRASE: passphrase };

  const serve = new Deno.Command(certrole, {
    args: ["serve", "--port", "0", "--token-file", `${work}/serve.token`],
    env: session,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const serveOut = serve.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  while (!printed.includes("AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    const { value, done } = await serveOut.read();
    if (done) throw new Error("certrole serve did not start");
    printed += value;
  }
  const served = parseExports(printed);
  const token = await Deno.readTextFile(`${work}/serve.token`);
  const startRss = await rss(serve.pid);
  const staticKeys = await (await fetch(served.AWS_CONTAINER_CREDENTIALS_FULL_URI, {
    headers: { Authorization: token },
  })).json();

  const sources: [string, Record<string, string>][] = [
    ["static keys in the environment (the floor)", {
      AWS_ACCESS_KEY_ID: staticKeys.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: staticKeys.SecretAccessKey,
      AWS_SESSION_TOKEN: staticKeys.Token,
    }],
    ["credential_process, cached", { AWS_CONFIG_FILE: `${work}/cached.config`, ...processEnv }],
    ["serve, container endpoint", {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: served.AWS_CONTAINER_CREDENTIALS_FULL_URI,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
    }],
    ["serve, IMDSv2", {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: served.AWS_EC2_METADATA_SERVICE_ENDPOINT,
      AWS_EC2_METADATA_DISABLED: "false",
    }],
    ["credential_process, cold CreateSession (--no-cache)", { AWS_CONFIG_FILE: `${work}/cold.config`, ...processEnv }],
  ];
  const boto3 = `
import boto3, json, sys, time
samples = []
for i in range(int(sys.argv[1]) + 1):
    session = boto3.Session()
    started = time.perf_counter()
    session.get_credentials().get_frozen_credentials()
    samples.append((time.perf_counter() - started) * 1000)
print(json.dumps(sorted(samples[1:])))
`;
  const calls: string[][] = [];
  const awsRuns = Math.max(5, Math.min(RUNS, 15));
  // Wall time of a whole `aws` run is mostly the CLI's own start-up and swings with the machine's
  // load by more than the credential sources differ; CPU time (of aws and the credential process it
  // waits for, from wait4) separates them. serve's side of a call is its own process: its CPU is
  // read from /proc around each call and shown apart.
  const spawnTimed = `
import json, os, sys, time
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"wallMs": (time.perf_counter() - started) * 1000,
                  "cpuMs": (usage.ru_utime + usage.ru_stime) * 1000, "code": os.waitstatus_to_exitcode(status)}))
`;
  const ticksPerSecond = 100; // USER_HZ, the unit of /proc/PID/stat's utime and stime on Linux
  const cpuMsOf = async (pid: number) => {
    const fields = (await Deno.readTextFile(`/proc/${pid}/stat`)).replace(/^.*\) /, "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 1000 / ticksPerSecond; // utime, stime
  };
  const ls = async (name: string, callEnv: Record<string, string>) => {
    const output = await new Deno.Command("python3", {
      args: ["-c", spawnTimed, aws, "s3", "ls", "--endpoint-url", server.url],
      env: callEnv,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const result = output.success ? JSON.parse(new TextDecoder().decode(output.stdout)) : undefined;
    if (!result || result.code !== 0) {
      throw new Error(`aws s3 ls (${name}): ${new TextDecoder().decode(output.stderr)}`);
    }
    return result as { wallMs: number; cpuMs: number };
  };
  // Round-robin over the sources, so load from elsewhere on the machine spreads over all of them.
  const samples = sources.map(() => ({ wall: [] as number[], cpu: [] as number[], serveCpuMs: 0 }));
  for (let run = -1; run < awsRuns; run++) {
    for (const [index, [name, extra]] of sources.entries()) {
      const serveBefore = await cpuMsOf(serve.pid);
      const { wallMs, cpuMs } = await ls(name, { ...base, ...extra });
      if (run < 0) continue;
      samples[index].wall.push(wallMs);
      samples[index].cpu.push(cpuMs);
      samples[index].serveCpuMs += await cpuMsOf(serve.pid) - serveBefore;
    }
  }
  for (const [index, [name, extra]] of sources.entries()) {
    const python = await new Deno.Command("python3", {
      args: ["-c", boto3, String(awsRuns * 2)],
      env: { ...base, ...extra },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!python.success) throw new Error(`boto3 (${name}): ${new TextDecoder().decode(python.stderr)}`);
    const fetches: number[] = JSON.parse(new TextDecoder().decode(python.stdout));
    const { wall, cpu, serveCpuMs } = samples[index];
    wall.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    calls.push([
      name,
      percentile(cpu, 0.5).toFixed(0),
      percentile(cpu, 0.95).toFixed(0),
      name.startsWith("serve") ? (serveCpuMs / awsRuns).toFixed(1) : "",
      percentile(wall, 0.5).toFixed(0),
      percentile(fetches, 0.5).toFixed(1),
    ]);
  }

  // 200 clients, each fetching its credentials 10 times on a fresh connection, as SDKs do.
  const url = new URL(served.AWS_CONTAINER_CREDENTIALS_FULL_URI);
  const latencies: number[] = [];
  let errors = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      try {
        const response = await send(
          { method: "GET", url, headers: { Authorization: token } },
          { connectTimeoutMs: 10_000, totalTimeoutMs: 30_000 },
        );
        if (response.status !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  }));
  latencies.sort((a, b) => a - b);
  const load: [string, string, string, string][] = [[
    `credential GET, ${CLIENTS} concurrent clients x 10 (${errors} errors)`,
    percentile(latencies, 0.5).toFixed(1),
    percentile(latencies, 0.95).toFixed(1),
    percentile(latencies, 0.99).toFixed(1),
  ]];

  const stopTime = async (child: Deno.ChildProcess) => {
    const started = performance.now();
    child.kill("SIGTERM");
    await child.status;
    return (performance.now() - started).toFixed(0);
  };
  const serveRss = await rss(serve.pid);
  const resident: [string, string, string, string][] = [
    ["certrole serve, after start", startRss, "", "one role"],
    ["certrole serve, after the load", serveRss, await stopTime(serve), "one role"],
  ];
  await serveOut.cancel();
  await serve.stderr.cancel();

  const supervised = new Deno.Command(certrole, {
    args: ["exec", "--supervise", "--", "sleep", "60"],
    env: { ...session, HOME: work },
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 200; i++) {
    const children = await Deno.readTextFile(`/proc/${supervised.pid}/task/${supervised.pid}/children`).catch(() => "");
    if (children.trim()) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  resident.push([
    "certrole exec --supervise (the supervisor; sleep as its child)",
    await rss(supervised.pid),
    await stopTime(supervised),
    "SIGTERM forwarded, child ends",
  ]);
  await server.stop();
  return { calls, load, resident, errors };
}

/**
 * A chunked POST of one-byte chunks to the emulator, never ended: its answer (413 expected), the
 * time to it, peak RSS (VmHWM) growth, and how many chunks the connection took before it.
 */
async function oneByteChunks(): Promise<[string, string, string, string, string]> {
  const server = await startEmulatorProcess(false);
  try {
    const [before] = await memoryMb(server.pid, ["VmHWM"]);
    const url = new URL(server.url);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    // conn.write may take part of what it is given: the rest is written on, and counted as written.
    let written = 0;
    const writeAll = async (bytes: Uint8Array) => {
      for (let offset = 0; offset < bytes.length;) {
        const taken = await conn.write(bytes.subarray(offset));
        offset += taken;
        written += taken;
      }
    };
    await writeAll(new TextEncoder().encode(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
    ));
    written = 0;
    const started = performance.now();
    let answered = false;
    const statusLine = (async () => {
      const buffer = new Uint8Array(4096);
      let text = "";
      while (!text.includes("\r\n")) {
        const read = await conn.read(buffer);
        if (read === null) break;
        text += new TextDecoder().decode(buffer.subarray(0, read));
      }
      return text.split("\r\n")[0];
    })().catch(() => "").finally(() => answered = true);
    const chunk = "1\r\na\r\n";
    const block = new TextEncoder().encode(chunk.repeat(8192));
    try {
      while (!answered && written < (16 << 20) * chunk.length) await writeAll(block);
    } catch { /* the server closed the connection after its answer */ }
    const status = (await statusLine).match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? "none";
    const elapsed = performance.now() - started;
    conn.close();
    const [after] = await memoryMb(server.pid, ["VmHWM"]);
    const chunks = Math.floor(written / chunk.length);
    return ["POST to the emulator", status, elapsed.toFixed(0), (after - before).toFixed(0), String(chunks)];
  } finally {
    await server.stop();
  }
}
