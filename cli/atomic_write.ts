/**
 * Writing a whole file atomically, the one way certrole writes files: a temporary file created
 * exclusively beside the target with its final mode, written, fsynced, then renamed over the
 * target (or linked, when an existing file must be kept) and the directory fsynced. A reader (an
 * SDK reading ~/.aws/credentials, a script polling a ready file, the next credential-process)
 * sees the old file or the new one, never half of one and never a moment with wider permissions;
 * after a crash the file is the old or the new one, not empty.
 *
 * A target that is a symlink is refused unless the caller opts in (`followSymlink`, for files
 * users name and dotfile managers link), which replaces the link's target, not the link.
 *
 * @example
 * ```ts
 * await writeFileAtomically("/tmp/state.json", "{}", { mode: 0o600 });
 * await replaceFile("/tmp/ready", "http://127.0.0.1:8080\n", { mode: 0o644, what: "--ready-file" });
 * ```
 */
import { CertroleError, fail, messageOf } from "./errors.ts";

export interface AtomicWriteOptions {
  /** Permission bits from the file's creation on (the umask does not narrow them). */
  readonly mode: number;
  /** Write the target of a symlink at `path` instead of refusing it. */
  readonly followSymlink?: boolean;
  /** false: fail with Deno.errors.AlreadyExists when `path` exists instead of replacing it. */
  readonly replace?: boolean;
}

/** A symlink where certrole writes a file of its own (one it was not told to follow). */
export class SymlinkRefusedError extends Error {
  constructor(readonly path: string) {
    super(`"${path}" is a symbolic link, which certrole does not write through`);
    this.name = "SymlinkRefusedError";
  }
}

/** The directory part of a path ("." for a bare name). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/** lstat, or undefined when nothing is there: the path itself, never what a link names. */
export async function linkStatus(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** Where the bytes go: `path` itself, or with `followSymlink` the file its link names. */
async function targetOf(path: string, followSymlink: boolean): Promise<string> {
  const info = await linkStatus(path);
  if (!info?.isSymlink) return path;
  if (!followSymlink) throw new SymlinkRefusedError(path);
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    // A dangling link names the file to create.
    const link = await Deno.readLink(path);
    return link.startsWith("/") ? link : `${parentOf(path)}/${link}`;
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await file.write(bytes.subarray(offset));
}

/** Makes a rename or link in `directory` survive a crash; a file system that cannot is left as it is. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(directory, { read: true });
    await handle.sync();
  } catch { /* e.g. a directory we may write but not read: the rename itself still happened */ }
  handle?.close();
}

/** Throws the underlying error (NotFound, PermissionDenied, AlreadyExists, SymlinkRefusedError). */
export async function writeFileAtomically(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  const target = await targetOf(path, options.followSymlink ?? false);
  // createNew is O_EXCL: a name planted in advance (a symlink included) fails instead of being followed.
  const temporary = `${target}.${crypto.randomUUID()}.tmp`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let created = false;
  try {
    const file = await Deno.open(temporary, { write: true, createNew: true, mode: options.mode });
    created = true;
    try {
      // The umask may have narrowed the mode. Swapping this random name for a link needs the right
      // to rename in the target's directory, which would let one replace the target anyway.
      if (((await file.stat()).mode! & 0o7777) !== options.mode) await Deno.chmod(temporary, options.mode);
      await writeAll(file, bytes);
      await file.sync();
    } finally {
      file.close();
    }
    if (options.replace === false) {
      await Deno.link(temporary, target); // fails when the target exists; the temporary name goes below
    } else {
      await Deno.rename(temporary, target);
      created = false;
    }
    await syncDirectory(parentOf(target));
  } finally {
    if (created) await Deno.remove(temporary).catch(() => {});
  }
}

/**
 * writeFileAtomically for a file the user named with a setting (`what`: "--ready-file",
 * "credentials file"): a symlink is followed, a failure is one CertroleError naming the setting.
 */
export async function replaceFile(path: string, text: string, options: { mode: number; what: string }): Promise<void> {
  try {
    await writeFileAtomically(path, text, { mode: options.mode, followSymlink: true });
  } catch (error) {
    cannotWrite(options.what, path, error);
  }
}

function cannotWrite(what: string, path: string, error: unknown): never {
  fail("CannotWrite", `${what} "${path}" cannot be written (${messageOf(error)}): pick a writable path`);
}

/**
 * Fails, in one line naming `what`, unless `replaceFile(path, ...)` could succeed now: the path is
 * not a directory, its directory exists and a file can be created in it (a probe file, removed).
 * Resident commands call it up front, so a bad path is refused before any work (a signed
 * CreateSession) whose result would go there.
 */
export async function checkReplaceable(path: string, what: string): Promise<void> {
  try {
    // Where replaceFile would write: beside a symlink's target, even a dangling one's. A path
    // that cannot be looked at (its parent is a file) is judged as it is, by the checks below.
    const target = await targetOf(path, true).catch(() => path);
    const parent = parentOf(target);
    if ((await Deno.stat(target).catch(() => undefined))?.isDirectory) {
      fail("CannotWrite", `${what} "${path}" is a directory: name a file (e.g. ${path.replace(/\/$/, "")}/FILE)`);
    }
    const directory = await Deno.stat(parent).catch((error) => {
      if (error instanceof Deno.errors.NotFound) {
        fail("CannotWrite", `${what} "${path}": directory "${parent}" does not exist: create it or pick another path`);
      }
      throw error;
    });
    if (!directory.isDirectory) fail("CannotWrite", `${what} "${path}": "${parent}" is not a directory`);
    const probe = `${target}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(probe, "", { mode: 0o600, createNew: true });
    await Deno.remove(probe);
  } catch (error) {
    if (error instanceof CertroleError) throw error;
    cannotWrite(what, path, error);
  }
}
