/**
 * --debug output: step-by-step explanations on stderr, never secrets. Callers pass only
 * non-secret values (paths, ARNs, access key ids, canonical requests); there is deliberately no
 * way to log a credential object whole.
 */

export type DebugLog = (message: string) => void;

export const silent: DebugLog = () => {};

export function debugLog(enabled: boolean, write: (line: string) => void = writeStderr): DebugLog {
  if (!enabled) return silent;
  return (message) => {
    for (const line of message.split("\n")) write(`certrole debug: ${line}`);
  };
}

function writeStderr(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
}
