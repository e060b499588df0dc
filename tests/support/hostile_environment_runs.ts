/**
 * The runs of tests/hostile_environments.test.ts, in a process of their own (see there): every
 * command with garbage in each variable it reads, without HOME, with an unwritable cache and on
 * a read-only filesystem. The garbage: empty, blanks, 100 KB, control characters, bytes that are
 * not UTF-8, JavaScript property names, negative numbers, NaN, a directory, a FIFO, a device, a
 * missing path, a would-be shell command, a proxy URL with a password. The variables come from
 * every command's flag specs and from what the command (or the AWS SDK under it) asks the
 * environment for in recorded runs, so a new one is covered at once. Every run must end with an
 * exit code from ERROR_CODES (or 0), at most one line on stderr besides warnings and resident
 * commands' log lines, no "internal error", no stack trace, no secret's value in its output, and
 * change nothing it did not make.
 *
 * Most runs go through runCli (main() as the process runs it) in this process, with the
 * environment swapped per run (bytes that are not UTF-8 set through libc's setenv, which Deno's
 * API cannot); exec (which replaces its process) and the read-only filesystem (a mount namespace,
 * root only) are spawned.
 */
import assert from "node:assert/strict";
import { ERROR_CODES } from "../../cli/errors.ts";
import { COMMANDS, runCli } from "../../cli/main.ts";
import { startWalkthrough } from "./emulator.ts";
import { issueLeaf, makeCa } from "./pki.ts";
import { CALLER_HOME_ENV, CALLER_NODE_OPTIONS_ENV, LAUNCHER_ENV, launcherScript } from "../../cli/build/launcher.ts";
import { baseEnv, certroleArgv, MAIN, openssl, ROOT, run, tempDir } from "./run.ts";
import { canUnshareMounts, readOnlyRoot } from "./read_only_root.ts";

const EXIT_CODES = new Set([0, ...Object.values(ERROR_CODES).map((entry) => entry.exit)]);
const CANARY = "canary-5ecret-Zq9w";
const HUGE = "x".repeat(100_000); // under Linux's 128 KiB limit for one variable, so spawned runs carry it too
const NOT_UTF8 = new Uint8Array([0xff, 0xfe, 0x41, 0xc3, 0x28]);

const scratch = await tempDir("certrole-hostile-");
const directory = `${scratch}/a-directory`;
await Deno.mkdir(directory, { mode: 0o755 });
await Deno.chmod(directory, 0o755);
const fifo = `${scratch}/a-fifo`;
assert.equal((await run("mkfifo", [fifo])).code, 0);

/** A value, or bytes set through libc for the ones Deno's env API cannot hold. */
type Garbage = string | Uint8Array;

const GARBAGE: readonly Garbage[] = [
  "",
  "\t \n\r",
  HUGE,
  "\u0001\u001b[31mred\u007f\u0085\u2028x",
  NOT_UTF8,
  "constructor",
  "__proto__",
  "-1",
  "NaN",
  "1e999",
  directory,
  fifo,
  "/dev/zero",
  `${scratch}/missing/x`,
  "$(touch PWNED)",
  CANARY,
  `http://user:${CANARY}@[::1`, // a proxy URL with a password that does not parse
];

/** What spawned runs (exec) and variables only a library reads get: one of each kind, to keep their number small. */
const ONE_OF_EACH: readonly Garbage[] = [
  "",
  "\t\u0001\u001b",
  HUGE,
  NOT_UTF8,
  "__proto__",
  "constructor",
  "-1",
  directory,
  fifo,
  "/dev/zero",
];
/** Fewer still, for what runs most often (spawned exec, the AWS SDK's variables): what broke something once. */
const FEW: readonly Garbage[] = ["", HUGE, NOT_UTF8, "__proto__", "constructor", directory, fifo];
/**
 * HOME as system users have it (Debian's nobody has /nonexistent), and one in our scratch
 * directory, which certrole must not create (/nonexistent may exist on a shared machine).
 */
const NO_HOME = `${scratch}/no-home`;
const HOMES_THAT_ARE_NOT_THERE = ["/nonexistent", NO_HOME];

function describe(value: Garbage | undefined): string {
  if (value === undefined) return "unset";
  if (value instanceof Uint8Array) return "not UTF-8";
  return value.length > 40 ? `${value.length} characters` : JSON.stringify(value);
}

// The variables: every command's flag specs, and what certrole's source names.
const FLAG_VARIABLES = new Map<string, Set<string>>();
for (const entry of COMMANDS) {
  const { command } = await entry.load();
  FLAG_VARIABLES.set(entry.name, new Set(Object.values(command.flags).flatMap((spec) => spec.env ? [spec.env] : [])));
}
const NAME =
  /"((?:ROLESANYWHERE|CERTROLE|AWS|SSL|XDG)_[A-Z0-9_]+|HOME|TMPDIR|PATH|NODE_OPTIONS|(?:HTTPS?|NO)_PROXY|(?:https?|no)_proxy)"/g;
async function namesIn(path: string): Promise<string[]> {
  const info = await Deno.stat(path);
  if (info.isFile) {
    return path.endsWith(".ts") ? [...(await Deno.readTextFile(path)).matchAll(NAME)].map((m) => m[1]) : [];
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(...await namesIn(`${path}/${entry.name}`));
  return names;
}
const SECRET = /(PASSPHRASE|SECRET_ACCESS_KEY|SESSION_TOKEN|PASSWORD)$/;

// The world the commands run in: a CA and certificate, the emulator seeded for the walkthrough.
const ca = await makeCa(`${scratch}/pki`, { keyType: "ec:P-256" });
const leaf = await issueLeaf(ca, "leaf", { keyType: "ec:P-256" });
const iamCa = await makeCa(`${scratch}/iam-pki`, { keyType: "ec:P-256", cn: "hostileCA" });
const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
const home = `${scratch}/home`;
await Deno.mkdir(home);
for (const xdg of ["xdg-cache", "run"]) await Deno.mkdir(`${scratch}/${xdg}`, { mode: 0o700 });
const work = `${scratch}/work`; // the commands' working directory: relative garbage paths land here
await Deno.mkdir(work);

const SESSION = {
  ROLESANYWHERE_CERT_LOCATION: leaf.cert,
  ROLESANYWHERE_KEY_LOCATION: leaf.key,
  ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
  ROLESANYWHERE_TRUST_ANCHOR_ARN: walkthrough.trustAnchorArn,
  ROLESANYWHERE_PROFILE_ARN: walkthrough.profileArn,
  ROLESANYWHERE_ROLE_ARN: walkthrough.roleArn,
  ROLESANYWHERE_ENDPOINT: walkthrough.emulator.url,
  ROLESANYWHERE_CACHE_DIR: `${scratch}/cache`,
  ROLESANYWHERE_TIMEOUT: "5",
  AWS_MAX_ATTEMPTS: "1",
};
const ADMIN = {
  AWS_ACCESS_KEY_ID: walkthrough.emulator.admin.accessKeyId,
  AWS_SECRET_ACCESS_KEY: walkthrough.emulator.admin.secretAccessKey,
  AWS_ENDPOINT_URL: walkthrough.emulator.url,
  AWS_REGION: "us-east-1",
  AWS_CONFIG_FILE: `${scratch}/no-aws-config`,
  AWS_SHARED_CREDENTIALS_FILE: `${scratch}/no-aws-credentials`,
};
const out = `${scratch}/out`;
await Deno.mkdir(out);

interface Case {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /**
   * Other ways to give the same settings (a passphrase file instead of the variable): the
   * variables they set get one value of each kind too, with the rest of `env` as it is.
   */
  readonly alternatives?: readonly Readonly<Record<string, string | undefined>>[];
  /**
   * What a resident command (emulator, serve) prints once it is up: it then gets SIGTERM, as from
   * the terminal. Never before: serve ends its process on a stop signal while it is starting.
   */
  readonly ready?: RegExp;
}

/** serve's HTTPS key: the leaf's, unencrypted. */
const TLS_KEY = `${scratch}/tls-key.pem`;
await openssl(["pkey", "-in", leaf.key, "-passin", `pass:${leaf.passphrase}`, "-out", TLS_KEY]);

/** A passphrase file for each key, for the *_PASSPHRASE_FILE variables. */
async function passphraseFile(name: string, passphrase: string): Promise<string> {
  const path = `${scratch}/${name}.passphrase`;
  await Deno.writeTextFile(path, `${passphrase}\n`);
  return path;
}
const LEAF_PASSPHRASE_FILE = {
  ROLESANYWHERE_KEY_PASSPHRASE: undefined,
  ROLESANYWHERE_KEY_PASSPHRASE_FILE: await passphraseFile("leaf", leaf.passphrase!),
};
const CA_PASSPHRASE_FILE = {
  CERTROLE_CA_PASSPHRASE: undefined,
  CERTROLE_CA_PASSPHRASE_FILE: await passphraseFile("ca", ca.passphrase!),
};

/** Each command with arguments and an environment under which it succeeds. */
const CASES: Record<string, Case> = {
  "credential-process": {
    argv: [],
    env: SESSION,
    alternatives: [
      LEAF_PASSPHRASE_FILE,
      // The default cache directory, under HOME or the XDG directories.
      { ROLESANYWHERE_CACHE_DIR: undefined, HOME: home },
      { ROLESANYWHERE_CACHE_DIR: undefined, XDG_CACHE_HOME: `${scratch}/xdg-cache`, XDG_RUNTIME_DIR: `${scratch}/run` },
      // Every call on the network (the cache would answer otherwise): the trust store, and
      // proxies in use (NO_PROXY lists the emulator otherwise) that go nowhere.
      { ROLESANYWHERE_NO_CACHE: "1", AWS_CA_BUNDLE: ca.cert, SSL_CERT_FILE: ca.cert, SSL_CERT_DIR: `${scratch}/pki` },
      {
        ROLESANYWHERE_NO_CACHE: "1",
        NO_PROXY: undefined,
        HTTP_PROXY: "http://127.0.0.1:9",
        HTTPS_PROXY: "http://127.0.0.1:9",
      },
    ],
  },
  "read-certificate-data": { argv: [], env: { ROLESANYWHERE_CERT_LOCATION: leaf.cert } },
  "pki init-ca": {
    argv: [
      "--cn",
      "hostile",
      "--key-type",
      "ec-p256",
      "--cert-out",
      `${out}/ca.pem`,
      "--key-out",
      `${out}/ca-key.pem`,
      "--force",
    ],
    env: { CERTROLE_CA_PASSPHRASE: "ca-pass-Zq9w" },
    alternatives: [CA_PASSPHRASE_FILE],
  },
  "pki issue": {
    argv: [
      ...["--cn", "hostile", "--key-type", "ec-p256", "--ca-cert", ca.cert, "--ca-key", ca.key],
      ...["--cert-out", `${out}/leaf.pem`, "--key-out", `${out}/leaf-key.pem`, "--force"],
    ],
    env: { CERTROLE_CA_PASSPHRASE: ca.passphrase!, ROLESANYWHERE_KEY_PASSPHRASE: "leaf-pass-Zq9w" },
    alternatives: [CA_PASSPHRASE_FILE, LEAF_PASSPHRASE_FILE],
  },
  "pki check": {
    argv: ["--ca", ca.cert],
    env: {
      ROLESANYWHERE_CERT_LOCATION: leaf.cert,
      ROLESANYWHERE_KEY_LOCATION: leaf.key,
      ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
    },
    alternatives: [LEAF_PASSPHRASE_FILE],
  },
  "iam trust-policy": { argv: ["--cn", "hostile"], env: {} },
  "iam policy": { argv: ["--allow", "s3:ListAllMyBuckets"], env: {} },
  "iam cleanup": { argv: ["--role-name", "hostile", "--ca", iamCa.cert], env: ADMIN },
  "iam setup": {
    argv: ["--role-name", "hostile", "--cn", "hostile", "--ca", iamCa.cert, "--allow", "s3:ListAllMyBuckets"],
    env: ADMIN,
  },
  "emulator": { argv: ["--port", "0"], env: {}, ready: /^export AWS_ENDPOINT_URL=/m },
  "serve": {
    argv: ["--port", "0"],
    env: SESSION,
    ready: /^export AWS_CONTAINER_CREDENTIALS_FULL_URI=/m,
    alternatives: [{ ROLESANYWHERE_TLS_CERT: leaf.cert, ROLESANYWHERE_TLS_KEY: TLS_KEY }],
  },
  "update": { argv: ["--once"], env: { ...SESSION, AWS_SHARED_CREDENTIALS_FILE: `${scratch}/aws-credentials` } },
  "image render": { argv: ["--check", "--root", ROOT], env: {} },
  "image dockerfile": { argv: ["--base", "docker.io/library/debian:12", "--root", ROOT], env: {} },
  "version": { argv: [], env: {} },
};

Deno.test("every command has a case here", () => {
  assert.deepEqual(
    COMMANDS.map((entry) => entry.name).filter((name) => name !== "exec" && !CASES[name]),
    [],
    "add the new command to CASES (spawned like exec if it replaces or outlives its process)",
  );
});

// ---- Running a command and judging what it did ----

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The variables it read (in-process runs only), and whether certrole's code or only a library did. */
  readonly read?: ReadonlyMap<string, "certrole" | "library">;
}

/** What is wrong with an outcome; empty when nothing is. */
function problems(outcome: Outcome, secrets: readonly string[]): string[] {
  const found: string[] = [];
  if (!EXIT_CODES.has(outcome.code)) found.push(`exit code ${outcome.code} is not in ERROR_CODES`);
  if (/internal error/.test(outcome.stderr)) found.push("internal error");
  if (/^\s+at \S.*:\d+:\d+\)?$/m.test(outcome.stderr)) found.push("stack trace");
  const lines = outcome.stderr.split("\n").filter((line) => line !== "");
  // Warnings and the log lines of resident commands are not errors.
  const errors = lines.filter((line) => !/^certrole: warning: |^certrole (emulator|serve|update|exec): /.test(line));
  if (errors.length > 1) found.push(`${errors.length} lines on stderr`);
  const long = lines.find((line) => line.length > 1000);
  if (long) found.push(`a ${long.length}-character line on stderr`);
  if (outcome.code !== 0 && errors.length === 0) found.push("failed without saying why");
  if (outcome.stderr.includes("(hung for ")) found.push("hung");
  for (const secret of secrets) {
    if (outcome.stdout.includes(secret) || outcome.stderr.includes(secret)) {
      found.push(`secret ${describe(secret)} echoed`);
    }
  }
  return found;
}

const libc = Deno.dlopen(
  "libc.so.6",
  {
    setenv: { parameters: ["buffer", "buffer", "i32"], result: "i32" },
  } as const,
);
const cString = (bytes: Uint8Array) => Uint8Array.from([...bytes, 0]);

/** Names set to bytes: Deno.env.toObject() leaves them out, so they are deleted by name. */
const setAsBytes = new Set<string>();

/** Replaces this process's environment (PATH kept) for one in-process run. */
function setEnvironment(env: Readonly<Record<string, Garbage | undefined>>): void {
  for (const name of [...Object.keys(Deno.env.toObject()), ...setAsBytes]) if (name !== "PATH") Deno.env.delete(name);
  setAsBytes.clear();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) Deno.env.delete(name);
    else if (typeof value === "string") Deno.env.set(name, value);
    else {
      libc.symbols.setenv(cString(new TextEncoder().encode(name)), cString(value), 1);
      setAsBytes.add(name);
    }
  }
}

/**
 * runCli in this process, with stdout, stderr and the console captured; a command that would wait
 * for a signal (the emulator) gets its SIGTERM once it has started.
 */
async function inProcess(
  argv: readonly string[],
  env: Readonly<Record<string, Garbage | undefined>>,
  options: { discover?: boolean; ready?: RegExp } = {},
): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  const decoder = new TextDecoder();
  const saved = {
    out: Deno.stdout.writeSync,
    err: Deno.stderr.writeSync,
    add: Deno.addSignalListener,
    remove: Deno.removeSignalListener,
    console: { log: console.log, error: console.error, warn: console.warn, info: console.info, debug: console.debug },
    isTerminal: Deno.stdin.isTerminal,
    getEnv: Deno.env.get,
  };
  const read = new Map<string, "certrole" | "library">();
  if (options.discover) {
    Object.assign(Deno.env, {
      get: (name: string) => {
        if (read.get(name) !== "certrole") {
          // aws_clients.ts reads the SDK's variables once up front (checkSdkEnvironment): still the SDK's.
          const stack = new Error().stack!;
          read.set(name, stack.includes(READ_ENV) && !stack.includes("checkSdkEnvironment") ? "certrole" : "library");
        }
        return saved.getEnv.call(Deno.env, name);
      },
    });
  }
  const listeners: Array<[Deno.Signal, () => void]> = [];
  Object.assign(Deno.stdout, { writeSync: (bytes: Uint8Array) => (stdout += decoder.decode(bytes), bytes.length) });
  Object.assign(Deno.stderr, { writeSync: (bytes: Uint8Array) => (stderr += decoder.decode(bytes), bytes.length) });
  Object.assign(Deno.stdin, { isTerminal: () => false });
  Object.assign(Deno, {
    addSignalListener: (signal: Deno.Signal, listener: () => void) => listeners.push([signal, listener]),
    removeSignalListener: () => {},
  });
  const toStderr = (...args: unknown[]) => (stderr += args.map(String).join(" ") + "\n");
  Object.assign(console, { log: toStderr, error: toStderr, warn: toStderr, info: toStderr, debug: toStderr });
  const cwd = Deno.cwd();
  try {
    Deno.chdir(work);
    setEnvironment(env);
    let settled = false;
    const running = runCli(argv).finally(() => settled = true);
    const up = () => options.ready?.test(stdout) && listeners.some(([signal]) => signal === "SIGTERM");
    let hung = await waitUntil(() => settled || up() === true);
    if (hung === undefined && !settled) {
      listeners.findLast(([signal]) => signal === "SIGTERM")![1]();
      hung = await waitUntil(() => settled);
    }
    if (hung === undefined) return { code: await running, stdout, stderr, read };
    // A run that reads the FIFO again after its end of file is left behind: the finding is made.
    const code = hung.poked && await waitUntil(() => settled) === undefined ? await running : -1;
    const how = hung.poked ? ", until the FIFO was closed" : "";
    return { code, stdout, stderr: `${stderr}\n(hung for ${hung.waited} ms${how})`, read };
  } finally {
    Object.assign(Deno.env, { get: saved.getEnv });
    Deno.chdir(cwd);
    Object.assign(Deno.stdout, { writeSync: saved.out });
    Object.assign(Deno.stderr, { writeSync: saved.err });
    Object.assign(Deno.stdin, { isTerminal: saved.isTerminal });
    Object.assign(Deno, { addSignalListener: saved.add, removeSignalListener: saved.remove });
    Object.assign(console, saved.console);
  }
}

const original = Deno.env.toObject();
/** Every read of a variable in certrole's own code goes through this module. */
const READ_ENV = `${ROOT}/cli/process/environment.ts`;
const HANG_MS = 10_000;
/** A run still going after this long is hung whatever it waits for (the FIFO was poked each second). */
const GIVE_UP_MS = 180_000;

/**
 * Waits for `done`. Past HANG_MS the run is probably reading the FIFO: a writer that closes at once
 * gives it its end of file. The writer is a child under `timeout`, since opening a FIFO nobody
 * reads blocks: when certrole is only slow (a loaded machine) the poke gives up and the run gets
 * more time, up to GIVE_UP_MS. Undefined when `done` came without a hang.
 */
async function waitUntil(done: () => boolean): Promise<{ waited: number; poked: boolean } | undefined> {
  const started = Date.now();
  while (!done()) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const waited = Date.now() - started;
    if (waited < HANG_MS || done()) continue;
    if (await pokeFifo()) return { waited, poked: true };
    if (waited > GIVE_UP_MS) return { waited, poked: false };
  }
  return undefined;
}

/** True when something had the FIFO open for reading (or opened it within a second). */
async function pokeFifo(): Promise<boolean> {
  const { code } = await new Deno.Command("timeout", { args: ["1", "sh", "-c", ': > "$1"', "sh", fifo] }).output();
  return code === 0;
}
function restoreEnvironment(): void {
  setEnvironment(original);
}

/**
 * Variables every run has: PATH, a HOME, Deno's cache, and proxies that go nowhere for anything
 * but the emulator on 127.0.0.1, so garbage that drops an endpoint never reaches AWS.
 */
function ambient(): Record<string, string> {
  const env = baseEnv();
  return {
    PATH: env.PATH,
    HOME: home,
    DENO_DIR: env.DENO_DIR,
    DENO_NO_UPDATE_CHECK: "1",
    HTTPS_PROXY: "http://127.0.0.1:9",
    HTTP_PROXY: "http://127.0.0.1:9",
    NO_PROXY: "127.0.0.1",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/** Values of secret variables (passphrases, secret keys, tokens), and a proxy's password: never in the output. */
function secretsOf(env: Readonly<Record<string, Garbage | undefined>>): string[] {
  const secrets = Object.entries(env).filter(([name, value]) =>
    SECRET.test(name) && typeof value === "string" && value.length >= 8
  ).map(([, value]) => value as string);
  const proxyPassword = Object.entries(env).some(([name, value]) =>
    /_proxy$/i.test(name) && typeof value === "string" && value.includes(`:${CANARY}@`)
  );
  return proxyPassword ? [...secrets, CANARY] : secrets;
}

/** No missing HOME created, no value run as a shell command. */
function assertNothingMade(): void {
  const exists = (path: string) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  };
  assert.equal(exists(NO_HOME), false, `HOME=${NO_HOME}, which did not exist, was created`);
  assert.equal(exists(`${work}/PWNED`), false, "a value was run as a shell command");
}

// ---- The in-process matrix ----

/**
 * The variables a command reads: whatever it (or the AWS SDK) asks the environment for, with
 * everything set and with each of those unset (which takes other paths: no cache directory, no
 * HOME). A variable certrole's code reads counts as its own even when a library reads it too.
 */
async function variablesRead(
  argv: readonly string[],
  baseline: Record<string, string>,
  ready: RegExp | undefined,
): Promise<Map<string, "certrole" | "library">> {
  const names = new Map<string, "certrole" | "library">();
  const add = (outcome: Outcome) =>
    outcome.read!.forEach((by, name) => names.get(name) !== "certrole" && names.set(name, by));
  add(await inProcess(argv, baseline, { discover: true, ready }));
  for (const name of Object.keys(baseline)) {
    add(await inProcess(argv, { ...baseline, [name]: undefined }, { discover: true, ready }));
  }
  return names;
}

const libraryVariablesTried = new Set<string>();
const fullyTried = new Set<string>();

for (const [name, testCase] of Object.entries(CASES)) {
  Deno.test(`${name}: garbage in every variable it reads, no HOME, an unwritable cache`, async () => {
    const argv = [...name.split(" "), ...testCase.argv];
    const failures: string[] = [];
    try {
      const baseline = { ...ambient(), ...testCase.env };
      // The baseline works: otherwise every variant below only proves the same early refusal.
      const ready = testCase.ready;
      const baselineOutcome = await inProcess(argv, baseline, { ready });
      assert.equal(baselineOutcome.code, 0, baselineOutcome.stderr);
      const variables = await variablesRead(argv, baseline, ready);
      for (const variable of FLAG_VARIABLES.get(name)!) variables.set(variable, "certrole");
      const variants: Array<[string, Record<string, Garbage | undefined>]> = [];
      for (const [variable, by] of [...variables].sort()) {
        // Each variable certrole reads gets every value in the first command that reads it and
        // one of each kind in the others (the session settings are read by credential-process,
        // exec, serve and update alike). What only a library reads (the AWS SDK's dozens) gets one
        // of each kind, once (in iam cleanup, which is quick with nothing to clean up).
        if (by === "library" && libraryVariablesTried.has(variable)) continue;
        if (by === "library") libraryVariablesTried.add(variable);
        const values = by === "library" ? FEW : fullyTried.has(variable) ? ONE_OF_EACH : GARBAGE;
        if (by === "certrole") fullyTried.add(variable);
        for (const value of [undefined, ...values, ...(variable === "HOME" ? HOMES_THAT_ARE_NOT_THERE : [])]) {
          variants.push([`${variable}=${describe(value)}`, { ...baseline, [variable]: value }]);
        }
      }
      for (const alternative of testCase.alternatives ?? []) {
        const base = { ...baseline, ...alternative };
        for (const [variable, given] of Object.entries(alternative)) {
          if (given === undefined) continue;
          for (const value of [...ONE_OF_EACH, ...(variable === "HOME" ? HOMES_THAT_ARE_NOT_THERE : [])]) {
            variants.push([`${variable}=${describe(value)}`, { ...base, [variable]: value }]);
          }
        }
      }
      // Unwritable caches, as root sees them: a file, a FIFO and /proc where the directory should be.
      for (const cache of [leaf.cert, fifo, "/proc/certrole-cache"]) {
        variants.push([`cache in ${cache}`, { ...baseline, ROLESANYWHERE_CACHE_DIR: cache, XDG_RUNTIME_DIR: cache }]);
      }
      for (const [label, env] of variants) {
        const outcome = await inProcess(argv, env, { ready });
        const found = problems(outcome, secretsOf(env));
        if (((await Deno.stat(directory)).mode! & 0o777) !== 0o755) {
          found.push(`changed the mode of ${directory}, which it did not create`);
          await Deno.chmod(directory, 0o755);
        }
        if (found.length) failures.push(`${label}: ${found.join(", ")}\n    ${outcome.stderr.slice(0, 600).trimEnd()}`);
      }
      // Which variables were tried (* only a library reads them), for whoever reads a failure.
      console.log(
        `${variants.length} runs: ${
          [...variables].sort().map(([n, by]) => `${n}${by === "library" ? "*" : ""}`).join(" ")
        }`,
      );
    } finally {
      restoreEnvironment();
    }
    assert.deepEqual(failures, [], failures.join("\n"));
    assertNothingMade();
  });
}

// ---- Spawned: exec, and the read-only filesystem ----

function shellEnv(
  env: Readonly<Record<string, Garbage | undefined>>,
): { env: Record<string, string>; prefix: string[] } {
  const strings: Record<string, string> = {};
  const exports: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (typeof value === "string") strings[name] = value;
    else exports.push(`export ${name}="$(printf '${[...value].map((byte) => `\\${byte.toString(8)}`).join("")}')"`);
  }
  return { env: strings, prefix: exports.length ? ["sh", "-c", `${exports.join("; ")}; exec "$@"`, "sh"] : [] };
}

/**
 * The launcher users run (make build, the images), on the source tree: it keeps Deno's own start
 * (which reads $HOME/.npmrc) working when HOME is not a directory. exec needs no npm package, so
 * it runs without the project's config as the bundle does.
 */
const LAUNCHER = `${scratch}/certrole`;
await Deno.writeTextFile(LAUNCHER, launcherScript(Deno.execPath(), MAIN, LAUNCHER), { mode: 0o755 });

async function spawned(
  argv: readonly string[],
  env: Readonly<Record<string, Garbage | undefined>>,
  options: { wrapper?: readonly string[]; certrole?: readonly string[] } = {},
): Promise<Outcome & { killed: boolean }> {
  const { env: strings, prefix } = shellEnv(env);
  const [command, ...args] = [...options.wrapper ?? [], ...prefix, ...options.certrole ?? [LAUNCHER], ...argv];
  const child = new Deno.Command(command, {
    args,
    env: strings,
    clearEnv: true,
    cwd: work,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 20_000);
  const output = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr), killed };
}

async function inBatches<T>(items: readonly T[], size: number, each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

/** What exec sets for its command on purpose: its config, the profile it wrote, its launcher's variables. */
const MANAGED_BY_EXEC = new Set([
  "AWS_CONFIG_FILE",
  "AWS_PROFILE",
  LAUNCHER_ENV,
  CALLER_HOME_ENV,
  CALLER_NODE_OPTIONS_ENV,
]);

const EXEC_ONLY_SOURCES = ["cli/commands/exec.ts", "cli/self_command.ts", "cli/aws_config", "cli/process", "cli/build"];

Deno.test("exec: garbage in the variables only exec reads, no HOME, an unwritable cache", async () => {
  const sessionVariables = FLAG_VARIABLES.get("credential-process")!;
  const names = new Set<string>();
  for (const variable of FLAG_VARIABLES.get("exec")!) if (!sessionVariables.has(variable)) names.add(variable);
  for (const path of EXEC_ONLY_SOURCES) {
    for (const variable of await namesIn(`${ROOT}/${path}`)) if (!sessionVariables.has(variable)) names.add(variable);
  }
  const baseline = { ...ambient(), ...SESSION };
  const variants: Array<[string, Record<string, Garbage | undefined>]> = [];
  for (const variable of [...names].sort()) {
    for (const value of [undefined, ...FEW, ...(variable === "HOME" ? HOMES_THAT_ARE_NOT_THERE : [])]) {
      variants.push([`${variable}=${describe(value)}`, { ...baseline, [variable]: value }]);
    }
  }
  for (const cache of [leaf.cert, "/proc/certrole-cache"]) {
    variants.push([`cache in ${cache}`, { ...baseline, ROLESANYWHERE_CACHE_DIR: cache }]);
  }
  // --supervise (certrole stays PID 1 and serves the credentials) writes and reads other things.
  for (const variable of ["HOME", "ROLESANYWHERE_CACHE_DIR"]) {
    for (const value of FEW) {
      variants.push([`--supervise ${variable}=${describe(value)}`, { ...baseline, [variable]: value }]);
    }
  }
  const failures: string[] = [];
  await inBatches(variants, 4, async ([label, env]) => {
    const supervise = label.startsWith("--supervise ");
    const variable = label.replace(/^--supervise /, "").split("=")[0];
    // The command sees the variable as it was given (bytes and all), unless exec manages it.
    const show =
      `printenv ${variable} > /dev/null && { printenv ${variable} | od -An -v -tx1 | tr -d ' \\n'; } || echo unset`;
    const outcome = await spawned(["exec", ...supervise ? ["--supervise"] : [], "--", "sh", "-c", show], env);
    const found = problems(outcome, secretsOf(env));
    if (outcome.killed) found.push("still running after 20 s");
    const value = env[variable];
    // A supervised command is started through Deno, whose API holds only UTF-8 text.
    const passable = !(supervise && value instanceof Uint8Array);
    if (outcome.code === 0 && !MANAGED_BY_EXEC.has(variable) && label.includes("=") && passable) {
      const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
      const expected = bytes === undefined ? "unset" : `${bytes.toHex()}0a`;
      if (outcome.stdout.trim() !== expected) found.push(`the command saw ${variable} changed`);
    }
    if (found.length) failures.push(`${label}: ${found.join(", ")}\n    ${outcome.stderr.slice(0, 600).trimEnd()}`);
  });
  const baselineOutcome = await spawned(["exec", "--", "true"], baseline);
  assert.equal(baselineOutcome.code, 0, baselineOutcome.stderr);
  assert.deepEqual(failures, [], failures.join("\n"));
  assertNothingMade();
});

/** / read-only, as in `docker run --read-only` without a tmpfs: nothing at all is writable. */
const READ_ONLY_ROOT = readOnlyRoot();

const MUST_WRITE = new Set(["pki init-ca", "pki issue", "exec", "emulator", "serve", "update"]);

Deno.test("every command on a read-only filesystem", { ignore: !canUnshareMounts }, async () => {
  const cases: Array<[string, Case]> = [
    ...Object.entries(CASES).filter(([name]) => name !== "emulator"),
    ["exec", { argv: ["--", "true"], env: SESSION }],
    ["exec", { argv: ["--supervise", "--", "true"], env: SESSION }],
    ["emulator", { argv: ["--port", "0", "--state", `${scratch}/emulator-state`], env: {} }],
  ];
  const failures: string[] = [];
  await inBatches(cases, 4, async ([name, testCase]) => {
    // A cache directory that does not exist yet, so that serve has to write its token file.
    const env = {
      ...ambient(),
      ...testCase.env,
      TMPDIR: scratch,
      ROLESANYWHERE_CACHE_DIR: `${scratch}/read-only-cache`,
    };
    const outcome = await spawned([...name.split(" "), ...testCase.argv], env, {
      wrapper: READ_ONLY_ROOT,
      certrole: certroleArgv(),
    });
    const found = problems(outcome, secretsOf(env));
    if (outcome.killed) found.push("still running after 20 s");
    // Whatever must write fails with its one line; the rest works as before.
    const expected = MUST_WRITE.has(name) ? 1 : 0;
    if (outcome.code !== expected) found.push(`exit ${outcome.code}, not ${expected}`);
    if (found.length) failures.push(`${name}: ${found.join(", ")}\n    ${outcome.stderr.slice(0, 600).trimEnd()}`);
  });
  assert.deepEqual(failures, [], failures.join("\n"));
});

Deno.test("stop the emulator, remove the scratch directory", async () => {
  await walkthrough.emulator.close();
  libc.close();
  await Deno.remove(scratch, { recursive: true });
});
