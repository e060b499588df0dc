/**
 * Fills the image's Deno cache at build time, so a fresh container starts certrole warm.
 *
 *   deno run -A scripts/image_code_cache.ts --home /out/home/certrole [--certrole /usr/local/bin/certrole]
 *
 * Why: on its first start in a process's DENO_DIR, Deno parses every module of the bundle to find
 * its imports (the dynamic imports of every command included: 2.6 MB) and compiles the ones it
 * runs, then stores both in DENO_DIR (dep_analysis_cache_v2, v8_code_cache_v2). A fresh container
 * has an empty DENO_DIR, so every container start paid that (about 100 ms of `exec -- true`'s
 * 150 ms); later starts in the same DENO_DIR take about 45 ms. The cache is keyed by module URL and
 * source hash, so it must be made by the same Deno running the same files at the same paths as
 * in the image: the build stage installs certrole at its image paths and runs it here.
 *
 * What runs: the commands a container runs, `exec` (with and without the preflight
 * CreateSession) and `credential-process` (what the AWS config's profile runs), against a
 * throwaway certificate (its key encrypted as the walkthrough's openssl writes it) and a closed local port (they fail at the network call, after loading
 * everything). The throwaway PKI is made with another DENO_DIR, so the image carries no cache
 * for `pki`. Deno's cache is SQLite in WAL mode: the databases are checkpointed into their main
 * files, and made writable by group 0 like the rest of HOME (a read-only cache is not used).
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

async function certrole(args: string[], env: Record<string, string>, expectSuccess: boolean): Promise<void> {
  const output = await new Deno.Command(values.certrole!, {
    args,
    cwd: work,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: `${work}/home`, ...env },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (expectSuccess && !output.success) {
    throw new Error(`certrole ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr).trim()}`);
  }
}

/** A local port nothing listens on: the network call fails at once, after every module loaded. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

// The walkthrough's key format (`openssl req -newkey … -keyout`: PBES2 with DES-EDE3-CBC), whose
// decryption also loads node:crypto.
const throwaway = { DENO_DIR: `${work}/pki-deno` };
await certrole(["pki", "init-ca", "--cn", "warm-up", "--no-passphrase"], throwaway, true);
await certrole(["pki", "issue", "--cn", "warm-up", "--no-passphrase"], throwaway, true);
const passphrase = crypto.randomUUID();
const [plain] = parsePem(await Deno.readTextFile(`${work}/key.pem`));
const encrypted = await encryptPkcs8(plain.bytes, passphrase, { cipher: "des-ede3-cbc", iterations: 2048 });
await Deno.writeTextFile(`${work}/key.pem`, toPem("ENCRYPTED PRIVATE KEY", encrypted));

const account = "arn:aws:rolesanywhere:us-east-1:000000000000";
const session = {
  DENO_DIR: denoDir,
  ROLESANYWHERE_CERT_LOCATION: `${work}/cert.pem`,
  ROLESANYWHERE_KEY_LOCATION: `${work}/key.pem`,
  ROLESANYWHERE_KEY_PASSPHRASE: passphrase,
  ROLESANYWHERE_TRUST_ANCHOR_ARN: `${account}:trust-anchor/00000000-0000-0000-0000-000000000000`,
  ROLESANYWHERE_PROFILE_ARN: `${account}:profile/00000000-0000-0000-0000-000000000000`,
  ROLESANYWHERE_ROLE_ARN: "arn:aws:iam::000000000000:role/warm-up",
  ROLESANYWHERE_ENDPOINT: `http://127.0.0.1:${closedPort()}`,
  ROLESANYWHERE_NO_CACHE: "true",
  AWS_MAX_ATTEMPTS: "1",
};
await Deno.mkdir(denoDir, { recursive: true });
await certrole(["exec", "--", "true"], { ...session, ROLESANYWHERE_PREFLIGHT: "false" }, true);
await certrole(["exec", "--", "true"], session, false);
await certrole(["credential-process"], session, false);

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
