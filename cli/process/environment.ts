/**
 * Reading the process environment. Deno throws InvalidData for a variable whose value is not
 * UTF-8 (bytes from a Latin-1 shell, a binary blob); certrole reports that as a one-line error
 * naming the variable instead of an internal error. Every read of a variable goes through here.
 * Deno.env.toObject() leaves such variables out; `undecodableEnvironment` finds them, so that
 * `certrole exec` hands its command the whole environment.
 */
import { fail } from "../errors.ts";
import { environmentEntries } from "./libc.ts";

/** The variable's value, undefined when unset; a non-UTF-8 value is an InvalidSetting error. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    if (error instanceof Deno.errors.InvalidData) {
      fail("InvalidSetting", `${name} holds bytes that are not UTF-8 text: fix or unset it`);
    }
    throw error;
  }
}

/**
 * The NAME=VALUE entries of this process's environment that are not UTF-8 text, as bytes (read
 * through libc: none when libc cannot be reached).
 */
export function undecodableEnvironment(): Uint8Array[] {
  const entries = environmentEntries();
  if (entries instanceof Error) return [];
  const strict = new TextDecoder("utf-8", { fatal: true });
  return entries.filter((entry) => {
    try {
      strict.decode(entry);
      return false;
    } catch {
      return true;
    }
  });
}
