/** Running `certrole exec` as a real child process with a walkthrough identity. */
import { baseEnv, certroleArgv } from "./run.ts";

export interface Spawned {
  readonly child: Deno.ChildProcess;
  /** Lines of stdout as they arrive. */
  readonly lines: AsyncIterableIterator<string>;
}

/** Spawns certrole with piped stdio; the caller reads stdout line by line and waits for the status. */
export function spawnCertrole(args: readonly string[], env: Record<string, string>): Spawned {
  const [command, ...prefix] = certroleArgv();
  const child = new Deno.Command(command, {
    args: [...prefix, ...args],
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())[Symbol.asyncIterator]();
  return { child, lines };
}

function splitLines(): TransformStream<string, string> {
  let buffer = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const part of parts) controller.enqueue(part);
    },
    flush(controller) {
      if (buffer) controller.enqueue(buffer);
    },
  });
}
