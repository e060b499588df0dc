/**
 * Fills the image's Deno cache at build time, so a fresh container starts certrole warm.
 *
 *   deno run -A scripts/image_code_cache.ts --home /out/home/certrole [--certrole /usr/local/bin/certrole]
 *
 * Why: on its first start in a DENO_DIR, Deno parses every module of the bundle to find its
 * imports (every command's dynamic imports included) and compiles the ones it runs, then stores
 * both in DENO_DIR (dep_analysis_cache_v2, v8_code_cache_v2). A fresh container has an
 * empty DENO_DIR, so every container start paid that (about 100 ms of `exec -- true`'s 150 ms on
 * our machines); later starts in the same DENO_DIR take about 45 ms. The cache is keyed by module
 * URL and source hash, so it is made by the same Deno running the same files at the same paths as
 * in the image: the build stage installs certrole at its image paths and runs it here.
 *
 * What runs, with the image's DENO_DIR: what a container runs, the walkthrough against certrole's
 * own emulator on loopback, over HTTPS as AWS's endpoints are: `exec` with and without its preflight CreateSession,
 * `exec --supervise` (the credential server and the supervisor), and
 * `credential-process` (what the AWS config's profile runs) from the credential cache and without
 * it. The throwaway CA, certificate (its key encrypted as the walkthrough's openssl writes it,
 * PBES2 with DES-EDE3, whose decryption loads node:crypto), emulator and `iam setup` run with
 * another DENO_DIR, so the image carries no cache for them. Deno's cache is SQLite in WAL mode:
 * the databases are checkpointed into their main files, and made writable by group 0 like the
 * rest of HOME (Deno does not use a cache it cannot write).
 */
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { encryptPkcs8 } from "../cli/identity/key_encryption.ts";
import { parsePem, toPem } from "../cli/identity/pem.ts";

const { values } = parseArgs({
  options: {
    home: { type: "string" },
    certrole: { type: "string", default: "/usr/local/bin/certrole" },
  },
});
if (!values.home) {
  console.error("image_code_cache.ts: --home DIR (the image's HOME, as laid out in the build stage) is required");
  Deno.exit(2);
}
const home = values.home.replace(/\/$/, "");
const denoDir = `${home}/.cache/deno`;
const work = await Deno.makeTempDir({ prefix: "certrole-warm-up-" });
const throwawayDenoDir = `${work}/deno`;

function certroleCommand(
  args: string[],
  env: Record<string, string>,
  output: { stdout: "piped" | "null"; stderr: "piped" | "null" },
) {
  return new Deno.Command(values.certrole!, {
    args,
    cwd: work,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: `${work}/home`, ...env },
    ...output,
  });
}

async function certrole(args: string[], env: Record<string, string>): Promise<string> {
  const output = await certroleCommand(args, env, { stdout: "piped", stderr: "piped" }).output();
  if (!output.success) {
    throw new Error(`certrole ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
  return new TextDecoder().decode(output.stdout);
}

/** HTTPS, as AWS's endpoints are: the TLS path (the system trust store, AWS_CA_BUNDLE) is warmed too. */
async function startEmulator() {
  const ready = `${work}/emulator-endpoint`;
  const caBundle = `${work}/emulator-ca.pem`;
  const child = certroleCommand(
    ["emulator", "--host", "127.0.0.1", "--port", "0", "--ready-file", ready, "--tls", "--ca-bundle", caBundle],
    { DENO_DIR: throwawayDenoDir },
    { stdout: "piped", stderr: "null" },
  ).spawn();
  let printed = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) printed += chunk;
  })();
  for (let attempt = 0; attempt < 600 && !printed.includes("AWS_DEFAULT_REGION"); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const exports = Object.fromEntries(
    [...printed.matchAll(/^export (\w+)=(.*)$/gm)].map(([, name, value]) => [name, value.replace(/^'|'$/g, "")]),
  );
  if (!exports.AWS_ENDPOINT_URL) throw new Error(`the emulator did not start: ${printed}`);
  return {
    exports,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await reading;
    },
  };
}

const throwaway = { DENO_DIR: throwawayDenoDir };
/** A container credential client: one GET with the token, failing unless credentials come back. */
const ASK = `const response = await fetch(Deno.env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"), {
  headers: { Authorization: Deno.env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN") },
});
if (!response.ok || !(await response.json()).AccessKeyId) Deno.exit(1);`;
await certrole(["pki", "init-ca", "--cn", "warmUpCA", "--no-passphrase"], throwaway);
await certrole(["pki", "issue", "--cn", "warmUp", "--no-passphrase"], throwaway);
const passphrase = crypto.randomUUID();
const [plain] = parsePem(await Deno.readTextFile(`${work}/key.pem`));
const encrypted = await encryptPkcs8(plain.bytes, passphrase, { cipher: "des-ede3-cbc", iterations: 2048 });
await Deno.writeTextFile(`${work}/key.pem`, toPem("ENCRYPTED PRIVATE KEY", encrypted));

const emulator = await startEmulator();
try {
  const setup = JSON.parse(
    await certrole(
      [
        ...["iam", "setup", "--role-name", "warm-up", "--cn", "warmUp", "--ca", "ca-cert.pem"],
        ...["--allow", "s3:ListAllMyBuckets", "--json"],
      ],
      { ...throwaway, ...emulator.exports },
    ),
  );
  const session = {
    DENO_DIR: denoDir,
    ROLESANYWHERE_CERT_LOCATION: `${work}/cert.pem`,
    ROLESANYWHERE_KEY_LOCATION: `${work}/key.pem`,
    ROLESANYWHERE_KEY_PASSPHRASE: passphrase,
    ROLESANYWHERE_TRUST_ANCHOR_ARN: setup.trustAnchorArn,
    ROLESANYWHERE_PROFILE_ARN: setup.profileArn,
    ROLESANYWHERE_ROLE_ARN: setup.roleArn,
    ROLESANYWHERE_ENDPOINT: emulator.exports.AWS_ENDPOINT_URL,
    AWS_CA_BUNDLE: emulator.exports.AWS_CA_BUNDLE,
  };
  await Deno.mkdir(denoDir, { recursive: true });
  await certrole(["exec", "--", "true"], { ...session, ROLESANYWHERE_PREFLIGHT: "false" });
  await certrole(["exec", "--", "true"], session);
  // What the python, node and aws-cli images run: the credential server and the supervisor, and
  // the server answering its child, as an SDK asks it (the request and response path compiles
  // code of its own). The child is this Deno with a throwaway cache of its own.
  await certrole(
    ["exec", "--supervise", "--", "env", `DENO_DIR=${throwawayDenoDir}`, Deno.execPath(), "eval", ASK],
    session,
  );
  await certrole(["credential-process"], session);
  await certrole(["credential-process", "--no-cache"], session);
} finally {
  await emulator.stop();
}

let databases = 0;
for (const entry of Deno.readDirSync(denoDir)) {
  if (!entry.isFile || !/_v\d+$/.test(entry.name)) continue;
  // journal_mode=DELETE folds the WAL into the main file and removes it; Deno turns WAL back on.
  const db = new DatabaseSync(`${denoDir}/${entry.name}`);
  db.exec("PRAGMA journal_mode=DELETE");
  db.close();
  databases++;
}
if (!databases) {
  // Another Deno than the one this was written for: the image still works, only starts colder.
  console.warn(`image_code_cache.ts: warning: no Deno cache databases in ${denoDir}; containers start cold`);
}

/** HOME and everything in it: the image's user and group 0 (arbitrary-UID platforms) may write. */
function groupWritable(path: string): void {
  const info = Deno.statSync(path);
  Deno.chmodSync(path, info.isDirectory ? 0o770 : 0o660);
  if (info.isDirectory) { for (const entry of Deno.readDirSync(path)) groupWritable(`${path}/${entry.name}`); }
}
groupWritable(home);
await Deno.remove(work, { recursive: true });
console.log(`image_code_cache.ts: ${databases} Deno cache database(s) in ${denoDir}`);
