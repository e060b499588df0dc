/**
 * An emulator seeded for the walkthrough: trust anchor on a CA, a bucket-lister role whose
 * trust policy requires CN=myContainer, an inline policy, and a profile. Seeded through the
 * same resource functions the control-plane API calls. And `certrole emulator` as a process.
 * Both keep the CreateSession log (which certificate each session was issued to, what was
 * refused or throttled): `walkthrough.sessionLog`, `await process.sessionLog()`.
 */
import { createProfile, createRole, createTrustAnchor, putRolePolicy } from "../../cli/emulator/resources.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../../cli/emulator/server.ts";
import { parseSessionLog, type SessionLogEntry } from "../../cli/emulator/session_log.ts";
import { permissionsPolicy, trustPolicy } from "../../cli/iam/documents.ts";
import { spawnResident, waitFor } from "./run.ts";

export interface Walkthrough {
  readonly emulator: Emulator;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly trustAnchorId: string;
  readonly profileId: string;
  /** Every CreateSession answered so far, oldest first. */
  readonly sessionLog: readonly SessionLogEntry[];
}

export const LIST_BUCKETS_POLICY = JSON.stringify(permissionsPolicy({ allow: ["s3:ListAllMyBuckets"] }));

export async function startWalkthrough(
  caPem: string,
  options: EmulatorOptions & { cn?: string; durationSeconds?: number; acceptRoleSessionName?: boolean } = {},
): Promise<Walkthrough> {
  const sessionLog: SessionLogEntry[] = [];
  const emulator = await startEmulator({
    ...options,
    onSession: (entry) => {
      sessionLog.push(entry);
      return options.onSession?.(entry);
    },
  });
  const now = new Date();
  const role = createRole(emulator.state, {
    roleName: "bucket-lister",
    assumeRolePolicyDocument: JSON.stringify(trustPolicy({ cn: options.cn ?? "myContainer" })),
  }, now);
  putRolePolicy(emulator.state, "bucket-lister", "list-buckets", LIST_BUCKETS_POLICY);
  const anchor = createTrustAnchor(emulator.state, {
    name: "myPrivateCA",
    enabled: true,
    source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: caPem } },
  }, now);
  const profile = createProfile(emulator.state, {
    name: "bucket-lister",
    roleArns: [role.arn],
    enabled: true,
    durationSeconds: options.durationSeconds ?? 3600,
    acceptRoleSessionName: options.acceptRoleSessionName,
  }, now);
  return {
    emulator,
    trustAnchorArn: anchor.trustAnchorArn,
    profileArn: profile.profileArn,
    roleArn: role.arn,
    trustAnchorId: anchor.trustAnchorId,
    profileId: profile.profileId,
    sessionLog,
  };
}

/** The issued entries of a CreateSession log, for "which certificate got a session" checks. */
export function issuedSessions(log: readonly SessionLogEntry[]): SessionLogEntry[] {
  return log.filter((entry) => entry.outcome === "issued");
}

/** Reads a `--session-log` file (an absent file is an empty log). */
export async function readSessionLog(path: string): Promise<SessionLogEntry[]> {
  try {
    return parseSessionLog(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/** ROLESANYWHERE_* variables for a walkthrough and a leaf certificate. */
export function sessionEnv(
  walkthrough: Walkthrough,
  leaf: { cert: string; key: string; passphrase?: string },
): Record<string, string> {
  return {
    ROLESANYWHERE_CERT_LOCATION: leaf.cert,
    ROLESANYWHERE_KEY_LOCATION: leaf.key,
    ...(leaf.passphrase ? { ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase } : {}),
    ROLESANYWHERE_TRUST_ANCHOR_ARN: walkthrough.trustAnchorArn,
    ROLESANYWHERE_PROFILE_ARN: walkthrough.profileArn,
    ROLESANYWHERE_ROLE_ARN: walkthrough.roleArn,
    ROLESANYWHERE_ENDPOINT: walkthrough.emulator.url,
  };
}

/** `certrole emulator` running as its own process, as users and scripts run it. */
export interface EmulatorProcess {
  readonly url: string;
  readonly pid: number;
  /** The `export NAME=value` lines it printed, unquoted. */
  readonly exports: Readonly<Record<string, string>>;
  readonly readyFile: string;
  /** The CreateSession log so far (its --session-log, which spawnEmulator adds when not given). */
  sessionLog(): Promise<SessionLogEntry[]>;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Sends the signal and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Parses `export NAME=value` lines (values as shellQuote writes them). */
export function parseExports(text: string): Record<string, string> {
  const exports: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = line.match(/^export ([A-Z][A-Z0-9_]*)=(.*)$/);
    if (match) exports[match[1]] = match[2].replace(/^'(.*)'$/s, "$1").replaceAll(`'\\''`, "'");
  }
  return exports;
}

export async function spawnEmulator(
  dir: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<EmulatorProcess> {
  const readyFile = `${dir}/ready-${crypto.randomUUID()}`;
  const logIndex = args.indexOf("--session-log");
  const sessionLogPath = logIndex >= 0 ? args[logIndex + 1] : `${dir}/sessions-${crypto.randomUUID()}.jsonl`;
  const { child, output, status } = spawnResident([
    "emulator",
    ...(args.includes("--port") ? [] : ["--port", "0"]),
    "--ready-file",
    readyFile,
    ...(logIndex >= 0 ? [] : ["--session-log", sessionLogPath]),
    ...args,
  ], env);
  let exited = false;
  child.status.then(() => exited = true);
  try {
    await waitFor(
      async () => {
        if (await exists(readyFile) && output().stdout.includes("AWS_DEFAULT_REGION")) return true;
        if (exited) throw new Error("it exited");
      },
      30_000,
      "its ready file and variables",
    );
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await status;
    const { stdout, stderr } = output();
    throw new Error(`certrole emulator did not become ready (${(error as Error).message}):\n${stdout}\n${stderr}`);
  }
  const url = (await Deno.readTextFile(readyFile)).trim();
  return {
    url,
    pid: child.pid,
    exports: parseExports(output().stdout),
    readyFile,
    sessionLog: () => readSessionLog(sessionLogPath),
    output,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) child.kill(signal);
      const { code } = await status;
      return { code, ...output() };
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
