/** `certrole serve` (or `update`) as a real child process: its printed variables, its log, stopping it. */
import { parseExports } from "./emulator.ts";
import { spawnResident, waitFor } from "./run.ts";

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
