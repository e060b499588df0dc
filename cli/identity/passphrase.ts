/**
 * Where the private key's passphrase comes from. In order: --pkcs8-password (the official
 * helper's flag), --passphrase-file, ROLESANYWHERE_KEY_PASSPHRASE_FILE (the docker-secrets
 * convention), ROLESANYWHERE_KEY_PASSPHRASE (the walkthrough's variable). The value is never
 * logged; `source` says where it came from, for messages. Other keys (a CA's) use the same
 * order with their own flag and variable names.
 */
import { fail } from "../errors.ts";
import { readInputFile } from "./input_file.ts";

export interface Passphrase {
  readonly value: string;
  /** e.g. `ROLESANYWHERE_KEY_PASSPHRASE` or `file "/run/secrets/key-passphrase"`. */
  readonly source: string;
}

export interface PassphraseSettings {
  /** --pkcs8-password */
  readonly inline?: string;
  /** --passphrase-file */
  readonly file?: string;
}

export const PASSPHRASE_ENV = "ROLESANYWHERE_KEY_PASSPHRASE";
export const PASSPHRASE_FILE_ENV = "ROLESANYWHERE_KEY_PASSPHRASE_FILE";

/** The flag and variables a key's passphrase is read from, for resolving and for messages. */
export interface PassphraseNames {
  readonly fileFlag: string;
  readonly env: string;
  readonly fileEnv: string;
}

/** The signing key's: what `certrole credential-process` and the walkthrough's container read. */
export const KEY_PASSPHRASE_NAMES: PassphraseNames = {
  fileFlag: "--passphrase-file",
  env: PASSPHRASE_ENV,
  fileEnv: PASSPHRASE_FILE_ENV,
};

/** "ROLESANYWHERE_KEY_PASSPHRASE, ROLESANYWHERE_KEY_PASSPHRASE_FILE or --passphrase-file" */
export function passphraseSettings(names: PassphraseNames): string {
  return `${names.env}, ${names.fileEnv} or ${names.fileFlag}`;
}

/**
 * Reads a passphrase file (a regular file: a FIFO would block and /dev/zero never end); one
 * trailing newline (what `echo` and editors add) is not part of it. `setting` names where the path
 * came from, for messages.
 */
export async function readPassphraseFile(path: string, setting: string): Promise<string> {
  const bytes = await readInputFile(path, { what: "passphrase", setting });
  const value = new TextDecoder().decode(bytes).replace(/\r?\n$/, "");
  bytes.fill(0);
  if (value === "") {
    fail("EmptyPassphrase", `passphrase file "${path}" is empty: write the key's passphrase into it`);
  }
  return value;
}

export async function resolvePassphrase(
  settings: PassphraseSettings,
  env: (name: string) => string | undefined,
  names: PassphraseNames = KEY_PASSPHRASE_NAMES,
): Promise<Passphrase | undefined> {
  if (settings.inline !== undefined && settings.file !== undefined) {
    fail("ConflictingSettings", `--pkcs8-password and ${names.fileFlag} are both set: keep one`);
  }
  if (settings.inline !== undefined) return { value: settings.inline, source: "--pkcs8-password" };
  if (settings.file !== undefined) {
    return { value: await readPassphraseFile(settings.file, names.fileFlag), source: `file "${settings.file}"` };
  }
  const fromEnv = env(names.env);
  const fileFromEnv = env(names.fileEnv);
  if (fromEnv !== undefined && fileFromEnv !== undefined) {
    fail("ConflictingSettings", `${names.env} and ${names.fileEnv} are both set: unset one`);
  }
  if (fileFromEnv !== undefined) {
    return {
      value: await readPassphraseFile(fileFromEnv, names.fileEnv),
      source: `file "${fileFromEnv}" (${names.fileEnv})`,
    };
  }
  if (fromEnv !== undefined) return { value: fromEnv, source: names.env };
  return undefined;
}
