/**
 * The few libc calls certrole needs that Deno has no API for (execve, signal dispositions,
 * prctl, resource limits, whether a process exists, which PID namespace we are in, waiting for
 * orphaned children), through Deno's FFI, opened once. Linux with glibc only (the
 * platforms certrole's images and launcher target); `openLibc()` says why when it cannot.
 */

const SYMBOLS = {
  execve: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  waitid: { parameters: ["i32", "u32", "buffer", "i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let opened: Libc | undefined;

/** libc's symbols, or an Error saying why they are unavailable (not Linux, no glibc, no --allow-ffi). */
export function openLibc(): Libc | Error {
  if (opened) return opened;
  if (Deno.build.os !== "linux") return new Error(`libc calls are implemented for Linux only, not ${Deno.build.os}`);
  try {
    opened = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
    return opened;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

export function errno(libc: Libc): number {
  return new Deno.UnsafePointerView(libc.__errno_location()!).getInt32();
}

/** What a signal does: the default action, nothing, or a handler someone installed. */
export type Disposition = "default" | "ignore" | "handler";

// glibc's struct sigaction on Linux: the handler pointer first, 152 bytes in all on 64-bit.
const SIGACTION_SIZE = 152;
const SIG_DFL = 0n;
const SIG_IGN = 1n;

export function disposition(libc: Libc, signal: number): Disposition {
  const current = new Uint8Array(SIGACTION_SIZE);
  if (libc.sigaction(signal, null, current) !== 0) throw new Error(`sigaction(${signal}) failed: errno ${errno(libc)}`);
  const handler = new DataView(current.buffer).getBigUint64(0, true);
  return handler === SIG_DFL ? "default" : handler === SIG_IGN ? "ignore" : "handler";
}

export function setDisposition(libc: Libc, signal: number, to: "default" | "ignore"): void {
  const action = new Uint8Array(SIGACTION_SIZE); // empty mask, no flags
  new DataView(action.buffer).setBigUint64(0, to === "ignore" ? SIG_IGN : SIG_DFL, true);
  if (libc.sigaction(signal, action, null) !== 0) throw new Error(`sigaction(${signal}) failed: errno ${errno(libc)}`);
}

export interface ResourceLimit {
  readonly soft: bigint;
  readonly hard: bigint;
}

export function getResourceLimit(libc: Libc, resource: number): ResourceLimit {
  const limit = new BigUint64Array(2);
  if (libc.getrlimit(resource, limit) !== 0) throw new Error(`getrlimit(${resource}) failed: errno ${errno(libc)}`);
  return { soft: limit[0], hard: limit[1] };
}

export function setResourceLimit(libc: Libc, resource: number, limit: ResourceLimit): void {
  const values = new BigUint64Array([limit.soft, limit.hard]);
  if (libc.setrlimit(resource, values) !== 0) throw new Error(`setrlimit(${resource}) failed: errno ${errno(libc)}`);
}

const ESRCH = 3;

/** kill(pid, 0): true while the process exists (EPERM: it does, but is someone else's). */
export function processExists(libc: Libc, pid: number): boolean {
  return libc.kill(pid, 0) === 0 || errno(libc) !== ESRCH;
}

/**
 * Our PID namespace ("pid:[4026531836]"), read with libc because Deno's permissions allow
 * /proc/self only with --allow-all; undefined when it cannot be read.
 */
export function pidNamespace(libc: Libc): string | undefined {
  const target = new Uint8Array(256);
  const length = Number(libc.readlink(new TextEncoder().encode("/proc/self/ns/pid\0"), target, BigInt(target.length)));
  return length > 0 ? new TextDecoder().decode(target.subarray(0, length)) : undefined;
}

/**
 * This process's environment as NAME=VALUE bytes, read through libc's `environ` (Deno's API
 * leaves out what is not UTF-8 text, and Deno refuses /proc/self/environ without --allow-all).
 * The array is read at the call, so whatever setenv did before is in it.
 */
export function environmentEntries(): Uint8Array[] | Error {
  if (Deno.build.os !== "linux") return new Error(`libc calls are implemented for Linux only, not ${Deno.build.os}`);
  let library;
  try {
    library = Deno.dlopen(
      "libc.so.6",
      {
        environ: { type: "pointer" },
        strlen: { parameters: ["pointer"], result: "usize" },
      } as const,
    );
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  try {
    // Deno gives a static's address: `environ` itself is read here, after any setenv.
    const address = library.symbols.environ;
    const table = address && new Deno.UnsafePointerView(address).getPointer(0);
    if (!table) return [];
    const view = new Deno.UnsafePointerView(table);
    const entries: Uint8Array[] = [];
    for (let index = 0;; index++) {
      const entry = view.getPointer(index * 8);
      if (!entry) return entries;
      const length = Number(library.symbols.strlen(entry));
      entries.push(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(entry, length)).slice());
    }
  } finally {
    library.close();
  }
}
