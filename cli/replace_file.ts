/**
 * Writing a whole file atomically: a private temporary file beside it, then a rename, so a reader
 * (a client polling a ready file, an SDK reading ~/.aws/credentials) never sees half of it. A path
 * that is a symlink (dotfile managers link ~/.aws/credentials) has its target replaced, not the
 * link. Failures are one-line CertroleErrors naming the setting. `checkReplaceable` tries the same
 * steps up front, so a resident command refuses a bad path before it does any work (a signed
 * CreateSession) whose result would go there.
 */
import { CertroleError, fail, messageOf } from "./errors.ts";

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/**
 * Fails, in one line naming `what`, unless `replaceFile(path, ...)` could succeed now: the path is
 * not a directory, its directory exists and a file can be created in it (a probe file, removed).
 */
export async function checkReplaceable(path: string, what: string): Promise<void> {
  let target = path;
  try {
    target = await Deno.realPath(path);
  } catch { /* does not exist yet */ }
  const parent = parentOf(target);
  try {
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
    fail("CannotWrite", `${what} "${path}" cannot be written (${messageOf(error)}): pick a writable path`);
  }
}

export async function replaceFile(path: string, text: string, options: { mode: number; what: string }): Promise<void> {
  let target = path;
  try {
    target = await Deno.realPath(path);
  } catch { /* does not exist yet */ }
  const temporary = `${target}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temporary, text, { mode: options.mode, createNew: true });
    await Deno.chmod(temporary, options.mode); // the umask may have narrowed it
    await Deno.rename(temporary, target);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    fail("CannotWrite", `${options.what} "${path}" cannot be written (${messageOf(error)}): pick a writable path`);
  }
}
