/**
 * User-facing errors: a stable code, a one-line message that names the thing and the fix,
 * and the exit code the top level uses. Anything else that escapes is a bug and gets a trace.
 */
export class CertroleError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CertroleError";
  }
}

/** Shorthand for the common case: throw a user error with exit code 1. */
export function fail(code: string, message: string, exitCode = 1): never {
  throw new CertroleError(code, message, exitCode);
}

/**
 * Deno's refusal of a path or resource certrole's fixed permissions exclude, said for certrole's
 * users: Deno's own advice ("run again with the --allow-all flag") is for a program's author, and
 * wrong here, since certrole always runs with the same permissions. Without --allow-all, Deno opens
 * nothing under /proc, /dev/fd or /dev/stdin and no memory device, whatever the file's mode.
 */
export function runtimeRefusal(text: string): string | undefined {
  const match = text.match(/^Requires (\w+) access to "?(.*?)"?, run again with the --allow-[\w-]+ flag/);
  if (!match) return undefined;
  const [, kind, what] = match;
  if (what.startsWith("/")) {
    return `"${what}" is not opened: certrole runs without access to /proc, /dev/fd, /dev/stdin and memory devices; ` +
      "use a regular file";
  }
  return `certrole runs without ${kind} access to "${what}"`;
}

/** The message of any thrown value, on one line, for wrapping low-level errors. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n")[0].trim();
  return runtimeRefusal(line) ?? line;
}

/**
 * Text from a file (a time value, a PEM header) as it appears in a message: quoted, control
 * characters escaped and cut at `max` characters, so a hostile file cannot break the one line.
 */
export function quoted(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
