/**
 * `make bench`: timings a user would feel, measured against the emulator on loopback, printed as
 * a table of median and p95 (not tests: numbers depend on the machine).
 *
 *   deno run -A scripts/bench.ts [--runs N]
 */
import $ from "dax-sh";
import { parseArgs } from "node:util";
import { createProfile, createRole, createTrustAnchor, putRolePolicy } from "../cli/emulator/resources.ts";
import { startEmulator } from "../cli/emulator/server.ts";
import { permissionsPolicy, trustPolicy } from "../cli/iam/documents.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "30" } } });
const RUNS = Number(values.runs);
const root = new URL("..", import.meta.url).pathname;

await $`${Deno.execPath()} run -A ${root}scripts/build.ts --out ${root}dist`.quiet();
const certrole = `${root}dist/certrole`;

const work = await Deno.makeTempDir({ prefix: "certrole-bench-" });
const passphrase = "bench-passphrase";
await $`openssl req -x509 -newkey rsa:2048 -noenc -keyout ${work}/ca-key.pem -out ${work}/ca-cert.pem -days 2 -subj /CN=benchCA -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign`
  .quiet();
await $`openssl req -newkey rsa:2048 -keyout ${work}/key.pem -passout pass:${passphrase} -out ${work}/csr.pem -subj /CN=myContainer`
  .quiet();
await $`openssl x509 -req -in ${work}/csr.pem -CA ${work}/ca-cert.pem -CAkey ${work}/ca-key.pem -set_serial 77 -days 1 -out ${work}/cert.pem -sha256`
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

await emulator.close();
await Deno.remove(work, { recursive: true });

const header: [string, string, string, string] = ["benchmark", "median ms", "p95 ms", "runs"];
const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
const line = (row: string[]) =>
  `| ${
    row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])).join(" | ")
  } |`;
console.log(
  [line(header), `|${widths.map((w, c) => (c === 0 ? "-" : "-").repeat(w + 2)).join("|")}|`, ...rows.map(line)].join(
    "\n",
  ),
);
