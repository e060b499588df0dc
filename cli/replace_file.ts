/**
 * Writing a whole file atomically: a private temporary file beside it, then a rename, so a reader
 * (a client polling a ready file, an SDK reading ~/.aws/credentials) never sees half of it. A path
 * that is a symlink (dotfile managers link ~/.aws/credentials) has its target replaced, not the
 * link. Failures are one-line CertroleErrors naming the setting.
 */
import { fail, messageOf } from "./errors.ts";

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
