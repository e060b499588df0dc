/**
 * User-facing errors: a code from the one closed list below, a one-line message that names the
 * thing and the fix, and the exit code the list gives that code. Anything else that escapes is a
 * bug: the top level prints "internal error" with its trace and exits 70.
 *
 * Exit codes: 2 when the invocation is wrong (a flag or one of the environment variables that stand
 * for flags is unknown, missing, malformed or contradicts another: fix the command line or the
 * settings), 1 when certrole was asked for something it cannot do (a file is missing, unreadable or
 * not what it must be, the machine's proxy or trust store is unusable, nothing is writable, AWS
 * refused or could not be reached), 126/127 when exec's command cannot run / is
 * not found (as a shell reports them), 130 when interrupted at a prompt. A new code is a row here;
 * `deno check` refuses a code that is not, and DEVELOPERS.md's table is checked against this one.
 *
 * @example
 * ```ts
 * const path = "/certs/leaf.pem";
 * fail("FileNotFound", `certificate file "${path}" does not exist: fix --certificate`); // exits 1
 * ```
 */

/** Each code's exit code and what it means, for the docs and for whoever scripts against certrole. */
export const ERROR_CODES = {
  // The invocation: exit 2.
  UsageError: { exit: 2, meaning: "unknown command or flag, a flag without its value or given twice, no command" },
  MissingSettings: { exit: 2, meaning: "a required flag or environment variable is not set" },
  InvalidSetting: {
    exit: 2,
    meaning: "a flag's or environment variable's value is malformed or out of range (ARN, region, URL, number…)",
  },
  ConflictingSettings: { exit: 2, meaning: "settings contradict each other: keep one, or make them agree" },
  UnsupportedSetting: {
    exit: 2,
    meaning: "a setting AWS's helper takes that certrole does not (key stores, PKCS#11, TPM, --no-verify-ssl)",
  },
  UnsupportedBaseImage: { exit: 2, meaning: "`image dockerfile --base` names an image certrole cannot run on" },
  UnsupportedExecMode: {
    exit: 2,
    meaning: "exec --supervise cannot run here (no glibc)",
  },
  OutlivesCa: { exit: 2, meaning: "the certificate asked for would outlive the CA that signs it" },

  // Files certrole was told to read: exit 1.
  FileNotFound: { exit: 1, meaning: "a file certrole was told to read does not exist" },
  FileUnreadable: { exit: 1, meaning: "a file exists but cannot be read (permissions, I/O)" },
  NotARegularFile: { exit: 1, meaning: "a directory, pipe, socket or device where a file belongs" },
  FileTooLarge: { exit: 1, meaning: "an input file is larger than certrole reads" },
  InvalidCertificate: { exit: 1, meaning: "not a valid X.509 certificate or PEM bundle of certificates" },
  CertificateExpired: { exit: 1, meaning: "the certificate's notAfter has passed" },
  CertificateNotYetValid: { exit: 1, meaning: "the certificate's notBefore is in the future" },
  InvalidPrivateKey: { exit: 1, meaning: "the key file holds no private key, or a corrupt one" },
  UnsupportedKey: { exit: 1, meaning: "a key type or form Roles Anywhere or certrole does not accept" },
  UnsupportedKeyEncryption: { exit: 1, meaning: "the key is encrypted with a cipher certrole does not read" },
  KeyDerivationLimit: { exit: 1, meaning: "the key's encryption asks for more work or memory than certrole allows" },
  KeyMismatch: { exit: 1, meaning: "the private key does not belong to the certificate" },
  PassphraseRequired: { exit: 1, meaning: "the key is encrypted and no passphrase was given" },
  WrongPassphrase: { exit: 1, meaning: "the passphrase does not decrypt the key" },
  EmptyPassphrase: { exit: 1, meaning: "a passphrase (variable, file or typed) is empty" },
  PassphraseMismatch: { exit: 1, meaning: "the passphrase typed twice differed" },
  InvalidCsr: { exit: 1, meaning: "not a PKCS#10 certificate request, or its signature does not verify" },
  NotACa: { exit: 1, meaning: "a certificate given as a CA is not one (basicConstraints, keyUsage)" },
  CaNotValid: { exit: 1, meaning: "the CA certificate has expired or is not valid yet" },
  InvalidCaBundle: { exit: 1, meaning: "a trust store file (AWS_CA_BUNDLE, SSL_CERT_FILE) is unusable" },
  InvalidTokenFile: {
    exit: 1,
    meaning: "serve's --token-file is readable by others or holds no usable token",
  },
  InvalidProxy: { exit: 1, meaning: "HTTPS_PROXY or HTTP_PROXY (the machine's, not a certrole setting) is not a URL" },
  ImageSpecError: { exit: 1, meaning: "images/variants.json, an entrypoint spec or Dockerfile.template is wrong" },
  NoImageSources: { exit: 1, meaning: "no Dockerfile.template where the image command looked" },

  // Files and ports certrole was told to make: exit 1.
  OutputExists: { exit: 1, meaning: "an output file already exists (or appeared meanwhile) and --force was not given" },
  OutputDirectoryMissing: { exit: 1, meaning: "the directory for an output file does not exist" },
  CannotWrite: { exit: 1, meaning: "a file or directory certrole must write cannot be written" },
  UnsafeCache: { exit: 1, meaning: "the cache directory or a lock file in it is a symlink or another user's" },
  NoWritableDirectory: {
    exit: 1,
    meaning: "no private writable directory for exec's AWS config or serve's token file",
  },
  AddressInUse: { exit: 1, meaning: "the address to listen on is taken" },
  ListenFailed: { exit: 1, meaning: "a server cannot start listening" },

  // AWS (or the emulator) and the network: exit 1.
  CreateSessionRefused: { exit: 1, meaning: "Roles Anywhere refused CreateSession (its error code is in the message)" },
  CreateSessionFailed: { exit: 1, meaning: "CreateSession failed on every attempt (network, throttling, 5xx)" },
  TransportError: { exit: 1, meaning: "the endpoint cannot be reached in a way retrying does not fix (TLS, DNS)" },
  MalformedResponse: { exit: 1, meaning: "the endpoint answered something that is not Roles Anywhere's answer" },
  AwsError: { exit: 1, meaning: "an IAM or Roles Anywhere API call of `iam setup`/`iam cleanup` failed" },
  AmbiguousName: { exit: 1, meaning: "several AWS resources carry the name certrole was given" },
  NotCreatedByCertrole: {
    exit: 1,
    meaning: "an existing resource lacks certrole's tags: pass --adopt to take it over",
  },
  ProfileOfAnotherRole: { exit: 1, meaning: "the profile serves a role other than the one being set up" },
  TrustAnchorInUse: { exit: 1, meaning: "another role still uses the trust anchor: cleanup keeps it" },

  // The command exec runs, as a shell reports it.
  CommandNotExecutable: { exit: 126, meaning: "exec's command exists but cannot be run" },
  CommandNotFound: { exit: 127, meaning: "exec's command is not on PATH" },

  Interrupted: { exit: 130, meaning: "interrupted (Ctrl-C) at a passphrase prompt; nothing was written" },
} as const satisfies Record<string, { exit: 1 | 2 | 126 | 127 | 130; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Exit code of an internal error (a bug: anything thrown that is not a CertroleError), as sysexits' EX_SOFTWARE. */
export const INTERNAL_ERROR_EXIT = 70;

export class CertroleError extends Error {
  readonly exitCode: number;
  /** The remote service's own error code (e.g. AccessDeniedException) for CreateSessionRefused. */
  readonly awsCode?: string;

  constructor(readonly code: ErrorCode, message: string, options: { awsCode?: string } = {}) {
    super(oneLine(message));
    this.name = "CertroleError";
    this.exitCode = ERROR_CODES[code].exit;
    if (options.awsCode !== undefined) this.awsCode = options.awsCode;
  }
}

/** Throws a user error; its exit code is the one ERROR_CODES gives `code`. */
export function fail(code: ErrorCode, message: string): never {
  throw new CertroleError(code, message);
}

const LONGEST_RUN = 300;
const LONGEST_LINE = 1000;

/**
 * Text as one line of bounded length, whatever values it quotes: control characters (a line break
 * in a variable, an escape sequence in a file name) escaped, and a run of more than 300
 * non-blank characters (a 100 KB variable, a path) cut in its middle, so the fix at the end of a
 * message stays on screen.
 */
export function oneLine(text: string): string {
  const escaped = text.replace(
    /[\p{Cc}\u2028\u2029]/gu,
    (character) =>
      ({ "\n": "\\n", "\r": "\\r", "\t": "\\t" })[character] ??
        `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  const bounded = escaped.replace(
    new RegExp(`\\S{${LONGEST_RUN + 1},}`, "g"),
    (run) => `${run.slice(0, 200)}…${run.slice(-80)}`,
  );
  return bounded.length > LONGEST_LINE ? `${bounded.slice(0, 600)}…${bounded.slice(-300)}` : bounded;
}

/**
 * Deno's refusal of a path or resource certrole's fixed permissions exclude, said for certrole's
 * users: Deno's own advice ("run again with the --allow-all flag") is for a program's author, and
 * wrong here, since certrole always runs with the same permissions. Without --allow-all, Deno opens
 * nothing under /proc, /dev/fd or /dev/stdin and no memory device, whatever the file's mode.
 */
export function runtimeRefusal(text: string): string | undefined {
  const match = text.match(/^Requires (\w+) access to "?(.*?)"?, run again with the --allow-[\w-]+ flag/);
  if (!match) return undefined;
  const [, kind, what] = match;
  if (what.startsWith("/")) {
    return `"${what}" is not opened: certrole runs without access to /proc, /dev/fd, /dev/stdin and memory devices; ` +
      "use a regular file";
  }
  return `certrole runs without ${kind} access to "${what}"`;
}

/** The message of any thrown value, on one line, for wrapping low-level errors. */
export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split("\n")[0].trim();
  return runtimeRefusal(line) ?? line;
}

/**
 * Text from a file (a time value, a PEM header) as it appears in a message: quoted, control
 * characters escaped and cut at `max` characters, so a hostile file cannot break the one line.
 */
export function quoted(text: string, max = 40): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
