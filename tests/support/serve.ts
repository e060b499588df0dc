/** `certrole serve` (or `update`) as a real child process: its printed variables, its log, stopping it. */
import { parseExports } from "./emulator.ts";
import { baseEnv, certroleArgv } from "./run.ts";

export interface ServeProcess {
  readonly child: Deno.ChildProcess;
  /** The `export NAME=value` lines it printed once ready. */
  readonly exports: Readonly<Record<string, string>>;
  /** http://127.0.0.1:PORT */
  readonly base: string;
  output(): { stdout: string; stderr: string };
  /** Resolves once the log has a line matching `pattern` (or rejects after `timeoutMs`). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts a certrole command with piped output; `ready` says when its start-up is done. */
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

export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function spawnServe(args: readonly string[], env: Record<string, string>): Promise<ServeProcess> {
  const { child, output, status } = spawnResident(["serve", ...args], env);
  let exited: Deno.CommandStatus | undefined;
  status.then((value) => exited = value);
  try {
    await waitFor(
      () => {
        if (exited) throw new Error(`certrole serve exited with ${exited.code}:\n${output().stderr}`);
        return output().stdout.includes("AWS_CONTAINER_CREDENTIALS_FULL_URI") ? true : undefined;
      },
      30_000,
      "certrole serve to print its variables",
    );
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await status;
    throw error;
  }
  const exports = parseExports(output().stdout);
  return {
    child,
    exports,
    base: exports.AWS_CONTAINER_CREDENTIALS_FULL_URI.replace(/\/v1\/credentials$/, ""),
    output,
    waitForLog: (pattern, timeoutMs = 15_000) =>
      waitFor(() => output().stderr.split("\n").find((line) => pattern.test(line)), timeoutMs, `a log line ${pattern}`),
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) child.kill(signal);
      const { code } = await status;
      return { code, ...output() };
    },
  };
}
