/**
 * Reading a file the user named (certificate, key, bundle, CSR, passphrase): regular files only,
 * since a FIFO without a writer blocks forever and a device like /dev/zero never ends, and at most
 * MAX_INPUT_FILE_BYTES. Every failure is a one-line CertroleError naming the setting to fix.
 */
import { CertroleError, fail, messageOf } from "../errors.ts";
import { shellQuote } from "../shell_quote.ts";

/** What each file is called in messages, and which setting points at it. */
export interface FileRole {
  readonly what: string;
  readonly setting: string;
}

/**
 * The most certrole reads of a certificate, key, bundle or CSR file. A whole system CA bundle is
 * about 220 KB; anything larger is the wrong file, and parsing it would only cost time.
 */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024;

function tooLarge(path: string, role: FileRole, size: number): never {
  fail(
    "FileTooLarge",
    `${role.what} file "${path}" is ${size} bytes, more than certrole reads (${MAX_INPUT_FILE_BYTES}): set ${role.setting} to the ${role.what} itself`,
  );
}

/** Reads a file, turning OS errors into a one-line message that says which setting to fix. */
export async function readInputFile(path: string, role: FileRole): Promise<Uint8Array<ArrayBuffer>> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.stat(path);
    if (info.isDirectory) {
      fail("NotARegularFile", `${role.what} "${path}" is a directory: set ${role.setting} to a file`);
    }
    // Reading a FIFO without a writer, or a device like /dev/zero, would never end.
    if (!info.isFile) {
      fail(
        "NotARegularFile",
        `${role.what} "${path}" is not a regular file (a pipe, socket or device): set ${role.setting} to a file`,
      );
    }
    if (info.size > MAX_INPUT_FILE_BYTES) tooLarge(path, role, info.size);
    const bytes = await Deno.readFile(path);
    if (bytes.length > MAX_INPUT_FILE_BYTES) tooLarge(path, role, bytes.length); // grew since stat
    return bytes;
  } catch (error) {
    if (error instanceof CertroleError) throw error;
    if (error instanceof Deno.errors.NotFound) {
      fail("FileNotFound", `${role.what} file "${path}" does not exist: set ${role.setting} to the right path`);
    }
    if (error instanceof Deno.errors.PermissionDenied) fail("FileUnreadable", unreadable(path, role, info));
    fail("FileUnreadable", `${role.what} file "${path}" cannot be read (${messageOf(error)})`);
  }
}

/**
 * Who we run as, who owns the file and the two ways out. Containers run as a numeric user
 * (65532:65532 in our images) while the walkthrough's openssl leaves 0600 root-owned keys.
 */
function unreadable(path: string, role: FileRole, info: Deno.FileInfo | undefined): string {
  const uid = Deno.uid();
  const gid = Deno.gid();
  const file = shellQuote(path);
  const owner = info?.mode == null
    ? ""
    : ` (owner ${info.uid}:${info.gid}, mode ${(info.mode & 0o777).toString(8).padStart(4, "0")})`;
  return `${role.what} file "${path}"${owner} is not readable by this process's user (uid ${uid}, gid ${gid}): ` +
    `give that group read access (chgrp ${gid} ${file} && chmod 0640 ${file}), or run as a user that can read it ` +
    `(docker run --user UID:GID)`;
}
