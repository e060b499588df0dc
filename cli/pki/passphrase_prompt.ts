/**
 * Passphrases for the keys `certrole pki` reads and writes: from a file or the environment when
 * given, else typed at the terminal with echo off (twice for a new key), else a one-line error
 * naming the variable to set. Never from argv, where other users' `ps` would see it.
 */
import { writeStderr } from "../command.ts";
import { CertroleError, fail } from "../errors.ts";
import { type KeyFileRole, privateKeyFromBytes, readInputFile } from "../identity/identity.ts";
import {
  type Passphrase,
  type PassphraseNames,
  passphraseSettings,
  resolvePassphrase,
} from "../identity/passphrase.ts";
import type { PrivateKey } from "../identity/private_key.ts";

/** The CA key's passphrase: its own variables, so a CA and a signing key never share one by accident. */
export function caPassphraseNames(fileFlag: string): PassphraseNames {
  return { fileFlag, env: "CERTROLE_CA_PASSPHRASE", fileEnv: "CERTROLE_CA_PASSPHRASE_FILE" };
}

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_U = 0x15;
const BACKSPACE = 0x08;
const DELETE = 0x7f;

/**
 * Reads one line from the terminal with echo off (raw mode), writing `prompt` to stderr.
 * Backspace and Ctrl-U edit; Ctrl-C and Ctrl-D on an empty line abort.
 */
export async function readHiddenLine(prompt: string): Promise<string> {
  const typed: number[] = [];
  const buffer = new Uint8Array(256);
  // Echo goes off before the prompt shows, so nothing typed after seeing it is ever echoed.
  Deno.stdin.setRaw(true);
  try {
    writeStderr(prompt);
    reading: while (true) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) break;
      for (const byte of buffer.subarray(0, count)) {
        if (byte === 0x0d || byte === 0x0a) break reading;
        if (byte === CTRL_C || (byte === CTRL_D && typed.length === 0)) {
          throw new CertroleError("Interrupted", "interrupted at the passphrase prompt: nothing was written");
        }
        if (byte === CTRL_D) break reading;
        if (byte === CTRL_U) {
          typed.length = 0;
        } else if (byte === DELETE || byte === BACKSPACE) {
          // Drop a whole UTF-8 character: continuation bytes look like 10xxxxxx.
          while (typed.length && (typed.pop()! & 0xc0) === 0x80);
        } else {
          typed.push(byte);
        }
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    writeStderr("\n");
    buffer.fill(0);
  }
  const text = new TextDecoder().decode(Uint8Array.from(typed));
  typed.fill(0);
  return text;
}

function canPrompt(): boolean {
  return Deno.stdin.isTerminal();
}

/**
 * The passphrase for an existing encrypted key: the file flag or the variables when set, else a
 * prompt on a terminal, else an error. `what` names the key in prompts and messages.
 */
export async function passphraseForExistingKey(
  what: string,
  file: string | undefined,
  names: PassphraseNames,
  env: (name: string) => string | undefined,
): Promise<Passphrase> {
  const given = await resolvePassphrase({ file }, env, names);
  if (given) return given;
  if (!canPrompt()) {
    fail("PassphraseRequired", `${what} is encrypted and no passphrase was given: set ${passphraseSettings(names)}`);
  }
  return { value: await readHiddenLine(`Passphrase for ${what}: `), source: "the terminal" };
}

/**
 * The passphrase for a key about to be written: the file flag or the variables when set, else
 * typed twice on a terminal, else an error that also offers --no-passphrase.
 */
export async function passphraseForNewKey(
  what: string,
  file: string | undefined,
  names: PassphraseNames,
  env: (name: string) => string | undefined,
): Promise<Passphrase> {
  const given = await resolvePassphrase({ file }, env, names);
  if (given) {
    if (given.value === "") fail("EmptyPassphrase", `the passphrase in ${given.source} is empty: set a non-empty one`);
    return given;
  }
  if (!canPrompt()) {
    fail(
      "MissingSettings",
      `no passphrase for the new ${what} and no terminal to ask on: set ${
        passphraseSettings(names)
      } (or pass --no-passphrase for a throwaway demo key)`,
    );
  }
  const first = await readHiddenLine(`New passphrase for ${what}: `);
  if (first === "") fail("EmptyPassphrase", "the passphrase is empty: nothing was written");
  const second = await readHiddenLine(`Repeat the passphrase for ${what}: `);
  if (first !== second) fail("PassphraseMismatch", "the two passphrases differ: nothing was written, run it again");
  return { value: first, source: "the terminal" };
}

/**
 * Reads and opens a key file, asking for its passphrase (settings, else the terminal) only when
 * the file turns out to be encrypted. Errors are identity.ts's one-liners for `role`.
 */
export async function openKeyFile(
  path: string,
  role: KeyFileRole,
  passphraseFile: string | undefined,
  env: (name: string) => string | undefined,
): Promise<PrivateKey> {
  const bytes = await readInputFile(path, role);
  try {
    const given = await resolvePassphrase({ file: passphraseFile }, env, role.passphrase);
    try {
      return await privateKeyFromBytes(bytes, path, given, role);
    } catch (error) {
      if (!(error instanceof CertroleError) || error.code !== "PassphraseRequired" || given) throw error;
      if (!canPrompt()) throw error;
      const typed = await passphraseForExistingKey(`${role.what} ${path}`, undefined, role.passphrase, env);
      return await privateKeyFromBytes(bytes, path, typed, role);
    }
  } finally {
    bytes.fill(0);
  }
}
