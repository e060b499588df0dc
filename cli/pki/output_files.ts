/**
 * The files `certrole pki` writes: all of them checked before any is written (an existing file
 * is never replaced without --force, two outputs never share a path), private keys created with
 * mode 0600 and certificates 0644, each written atomically (a reader never sees half a key; with
 * --force the replaced file gets the new mode).
 */
import { linkStatus, parentOf, writeFileAtomically } from "../atomic_write.ts";
import { fail, messageOf } from "../errors.ts";

export interface OutputFile {
  readonly path: string;
  /** "CA private key", "certificate", ... for messages. */
  readonly what: string;
  /** The flag that sets the path, for the message that says how to choose another. */
  readonly flag: string;
  readonly mode: 0o600 | 0o644;
}

export const KEY_MODE = 0o600;
export const CERTIFICATE_MODE = 0o644;

/** Fails with one line on the first output that cannot be written; writes nothing. */
export async function checkOutputs(outputs: readonly OutputFile[], force: boolean): Promise<void> {
  const seen = new Map<string, OutputFile>();
  for (const output of outputs) {
    const earlier = seen.get(output.path);
    if (earlier) {
      fail(
        "ConflictingSettings",
        `${earlier.flag} and ${output.flag} are both "${output.path}": give them different paths`,
      );
    }
    seen.set(output.path, output);
    const info = await linkStatus(output.path);
    if (info?.isDirectory) {
      fail(
        "NotARegularFile",
        `${output.what} path "${output.path}" is a directory: set ${output.flag} to a file path`,
      );
    }
    if (info && !force) {
      fail(
        "OutputExists",
        `${output.what} "${output.path}" already exists: pass --force to replace it, or choose another path with ${output.flag}`,
      );
    }
    const parent = await linkStatus(parentOf(output.path));
    if (!parent?.isDirectory) {
      fail(
        "OutputDirectoryMissing",
        `directory "${parentOf(output.path)}" for ${output.what} does not exist: create it first`,
      );
    }
  }
}

/** Writes one output; without `force` it refuses to replace a file that appeared since the check. */
export async function writeOutput(output: OutputFile, text: string, force: boolean): Promise<void> {
  try {
    await writeFileAtomically(output.path, text, { mode: output.mode, followSymlink: true, replace: force });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      fail("OutputExists", `${output.what} "${output.path}" appeared while certrole was working: nothing was replaced`);
    }
    fail("CannotWrite", `cannot write ${output.what} "${output.path}" (${messageOf(error)})`);
  }
}
