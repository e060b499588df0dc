/**
 * Replacing this process with another program, as `exec` does in sh. Deno has no exec, so
 * execve(2) is called from libc through Deno's FFI: the program keeps our PID (PID 1 in a
 * container), our stdio and our signal dispositions, and its exit code is the process's.
 * Deno ignores SIGPIPE and an ignored signal stays ignored across exec, so its default is
 * restored first (otherwise `yes | head -n 1` would never end), and the runtime guard's changes
 * (SIGUSR1, the core-dump limit) are undone.
 */
import { CertroleError } from "../errors.ts";
import { errno as lastErrno, openLibc, setDisposition } from "./libc.ts";
import { releaseForExec } from "./runtime_guard.ts";

const SIGPIPE = 13;
const ENOEXEC = 8;

export type Resolution =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly code: "CommandNotExecutable" | "CommandNotFound"; readonly message: string };

function isExecutableFile(path: string): "yes" | "not-executable" | "missing" {
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) return info.isDirectory ? "not-executable" : "missing";
    return (info.mode ?? 0) & 0o111 ? "yes" : "not-executable";
  } catch {
    return "missing";
  }
}

/** Finds a command the way sh does: a name with a slash is a path, anything else is looked up in PATH. */
export function resolveCommand(name: string, path: string | undefined, cwd: string): Resolution {
  if (name === "") return { ok: false, code: "CommandNotFound", message: "empty command name" };
  if (name.includes("/")) {
    const full = name.startsWith("/") ? name : `${cwd}/${name}`;
    const state = isExecutableFile(full);
    if (state === "yes") return { ok: true, path: full };
    if (state === "missing") return { ok: false, code: "CommandNotFound", message: `${name}: no such file` };
    return { ok: false, code: "CommandNotExecutable", message: `${name}: permission denied (not an executable file)` };
  }
  let notExecutable: string | undefined;
  for (const directory of (path ?? "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const candidate = `${directory || cwd}/${name}`;
    const state = isExecutableFile(candidate);
    if (state === "yes") return { ok: true, path: candidate };
    if (state === "not-executable" && !Deno.statSync(candidate).isDirectory) notExecutable ??= candidate;
  }
  if (notExecutable) {
    return { ok: false, code: "CommandNotExecutable", message: `${notExecutable}: permission denied (not executable)` };
  }
  return { ok: false, code: "CommandNotFound", message: `${name}: command not found (PATH=${path ?? ""})` };
}

const encoder = new TextEncoder();

function cString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) {
    throw new CertroleError("InvalidSetting", "arguments and environment values cannot contain NUL bytes");
  }
  return encoder.encode(text + "\0");
}

/** A NULL-terminated array of pointers to the strings; `keep` holds the buffers alive. */
function pointerArray(strings: readonly Uint8Array<ArrayBuffer>[]): BigUint64Array<ArrayBuffer> {
  const array = new BigUint64Array(strings.length + 1);
  strings.forEach((bytes, index) => {
    array[index] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
  });
  return array;
}

/**
 * execve(path, argv, env), env with `undecodable`'s NAME=VALUE bytes (variables that are not UTF-8
 * text) added. Returns only on failure, with a CertroleError carrying sh's exit
 * codes (126: found but cannot run). `argv[0]` is what the program sees as its name.
 */
export function replaceProcess(
  path: string,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  undecodable: readonly Uint8Array[] = [],
): never {
  const libc = openLibc();
  if (libc instanceof Error) {
    throw new CertroleError("CommandNotExecutable", `cannot run ${path}: execve is unavailable (${libc.message})`);
  }
  const run = (file: string, args: readonly string[]) => {
    const argStrings = args.map(cString);
    const envStrings = [
      ...Object.entries(env).map(([name, value]) => cString(`${name}=${value}`)),
      ...undecodable.map((entry) => Uint8Array.from([...entry, 0])),
    ];
    const argvPointers = pointerArray(argStrings);
    const envPointers = pointerArray(envStrings);
    libc.execve(cString(file), argvPointers, envPointers);
    // Still here: it failed. Keep the buffers reachable until after the call.
    void argStrings, envStrings;
    return lastErrno(libc);
  };
  setDisposition(libc, SIGPIPE, "default");
  releaseForExec();
  let errno = run(path, argv);
  if (errno === ENOEXEC) errno = run("/bin/sh", ["sh", path, ...argv.slice(1)]); // a script without #!, as sh runs it
  throw new CertroleError("CommandNotExecutable", `cannot run ${path}: exec failed with errno ${errno}`);
}
