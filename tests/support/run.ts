/** Running processes in tests: certrole itself (from source, with its real permissions) and peers like openssl. */
import { RUNTIME_PERMISSIONS } from "../../cli/permissions.ts";

export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const MAIN = `${ROOT}/cli/main.ts`;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall-clock time from spawn to exit. */
  readonly elapsedMs: number;
  /** True when `killAfterMs` passed and the process was killed (a hang, not an answer). */
  readonly killed: boolean;
}

export interface RunOptions {
  readonly env?: Record<string, string>;
  /** Start from an empty environment (plus PATH, HOME) instead of inheriting this one. */
  readonly cleanEnv?: boolean;
  readonly stdin?: string | Uint8Array;
  readonly cwd?: string;
  /** SIGKILL the process after this long, so a test of a former hang fails instead of hanging. */
  readonly killAfterMs?: number;
}

/** A minimal environment, so a developer's AWS or ROLESANYWHERE_ variables cannot leak into tests. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  // TLS trust settings pass through: behind a TLS-inspecting proxy, Deno fetching npm packages
  // (esbuild for `deno bundle`) needs the machine's CA bundle.
  for (
    const name of [
      "HOME",
      "DENO_DIR",
      "TMPDIR",
      "LANG",
      "SSL_CERT_FILE",
      "SSL_CERT_DIR",
      "DENO_CERT",
      "DENO_TLS_CA_STORE",
      "NODE_EXTRA_CA_CERTS",
    ]
  ) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  // Tests point HOME at temp dirs (for AWS config files); Deno's cache must stay where it is.
  env.DENO_DIR ??= `${Deno.env.get("HOME") ?? "/root"}/.cache/deno`;
  // As the launcher does: no release check on dl.deno.land (through a test's HTTPS_PROXY) from certrole's Deno.
  env.DENO_NO_UPDATE_CHECK = "1";
  return env;
}

export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const child = new Deno.Command(command, {
    args: [...args],
    env: options.cleanEnv === false ? options.env : { ...baseEnv(), ...options.env },
    clearEnv: options.cleanEnv !== false,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin);
    await writer.close();
  }
  let killed = false;
  const timer = options.killAfterMs === undefined ? undefined : setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, options.killAfterMs);
  const output = await child.output();
  clearTimeout(timer);
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
    elapsedMs: Date.now() - started,
    killed,
  };
}

/** The argv that runs certrole from source exactly as the launcher does. */
export function certroleArgv(): string[] {
  return [Deno.execPath(), "run", "--quiet", ...RUNTIME_PERMISSIONS, MAIN];
}

export function certrole(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [command, ...prefix] = certroleArgv();
  return run(command, [...prefix, ...args], options);
}

/** openssl, failing the test with its stderr when it fails. */
export async function openssl(args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run("openssl", args, options);
  if (result.code !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * Polls `probe` every `intervalMs` until it returns a value (not undefined), and returns that
 * value; throws naming `what` once `timeoutMs` has passed without one.
 */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function tempDir(prefix = "certrole-test-"): Promise<string> {
  return await Deno.makeTempDir({ prefix });
}

/**
 * Starts a long-running certrole command. Its output is collected as it comes (`output()` reads it
 * so far); `status` resolves once the process has exited and all of its output is in.
 */
export function spawnResident(
  args: readonly string[],
  env: Record<string, string>,
): { child: Deno.ChildProcess; output: () => { stdout: string; stderr: string }; status: Promise<Deno.CommandStatus> } {
  const [command, ...prefix] = certroleArgv();
  const child = new Deno.Command(command, {
    args: [...prefix, ...args],
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const collect = async (stream: ReadableStream<Uint8Array>, append: (text: string) => void) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) append(chunk);
  };
  const collected = Promise.all([
    collect(child.stdout, (text) => stdout += text),
    collect(child.stderr, (text) => stderr += text),
  ]);
  const status = child.status.then(async (value) => {
    await collected;
    return value;
  });
  return { child, output: () => ({ stdout, stderr }), status };
}
