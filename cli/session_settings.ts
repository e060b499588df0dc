/**
 * The settings of a Roles Anywhere session, shared by `credential-process`, `exec` and
 * `config`: the official helper's flag names, each with the walkthrough's environment variable
 * as fallback, checked and resolved into one value. A missing setting is reported together
 * with every other missing one.
 */
import { type Arn, expectArn } from "./arn.ts";
import { DEFAULT_REFRESH_BEFORE_SECONDS } from "./credentials/cache.ts";
import { debugLog } from "./debug_log.ts";
import { CertroleError, fail } from "./errors.ts";
import type { FlagSpec, FlagSpecs, ParsedFlags } from "./flags.ts";
import { resolveEndpoint } from "./rolesanywhere/endpoint.ts";
import { callBudgetMs, DEFAULT_MAX_ATTEMPTS, maxAttemptsFrom } from "./transport/retry.ts";

/**
 * Per attempt. The AWS CLI runs credential_process before every command, so a dead network must
 * fail it in seconds, not minutes: 3 s to connect (the AWS SDKs' "standard" defaults mode allows
 * 3.1 s for the connect and as much for TLS), 5 s for a whole attempt (CreateSession answers in
 * well under a second).
 */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 3;
export const DEFAULT_TIMEOUT_SECONDS = 5;
const DEFAULT_CALL_SECONDS = callBudgetMs(DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT_SECONDS * 1000) / 1000;

/** For the help of the commands that take SESSION_FLAGS: how long a call can take, in total. */
export const TIMEOUT_HELP =
  `With the defaults, a CreateSession that cannot be reached fails within ${DEFAULT_CALL_SECONDS} s
(${DEFAULT_MAX_ATTEMPTS} attempts, AWS_MAX_ATTEMPTS, of at most --timeout ${DEFAULT_TIMEOUT_SECONDS} s each, with backoff between them),
plus at most one --timeout spent waiting for a concurrent caller's CreateSession.`;

export const SESSION_FLAGS = {
  "certificate": {
    type: "string",
    value: "FILE",
    env: "ROLESANYWHERE_CERT_LOCATION",
    description: "end-entity certificate, PEM or DER (may also hold the key)",
  },
  "private-key": {
    type: "string",
    value: "FILE",
    env: "ROLESANYWHERE_KEY_LOCATION",
    description: "private key, PEM or DER, encrypted or not (default: the certificate file)",
  },
  "intermediates": {
    type: "string",
    value: "FILE",
    env: "ROLESANYWHERE_INTERMEDIATES_LOCATION",
    description: "PEM bundle of intermediate CA certificates",
  },
  "trust-anchor-arn": {
    type: "string",
    value: "ARN",
    env: "ROLESANYWHERE_TRUST_ANCHOR_ARN",
    description: "trust anchor to authenticate against",
  },
  "profile-arn": {
    type: "string",
    value: "ARN",
    env: "ROLESANYWHERE_PROFILE_ARN",
    description: "profile that grants the role",
  },
  "role-arn": { type: "string", value: "ARN", env: "ROLESANYWHERE_ROLE_ARN", description: "role to assume" },
  "region": {
    type: "string",
    value: "REGION",
    env: "ROLESANYWHERE_REGION",
    description: "signing region (default: the trust anchor's)",
  },
  "endpoint": {
    type: "string",
    value: "URL",
    env: "ROLESANYWHERE_ENDPOINT",
    description: "CreateSession endpoint (default: AWS_ENDPOINT_URL_ROLESANYWHERE, else the regional one)",
  },
  "session-duration": {
    type: "string",
    value: "SECONDS",
    env: "ROLESANYWHERE_SESSION_DURATION",
    default: "3600",
    description: "lifetime of the credentials, 900 to 43200",
  },
  "role-session-name": {
    type: "string",
    value: "NAME",
    env: "ROLESANYWHERE_ROLE_SESSION_NAME",
    description: "name of the role session (2-64 of A-Z a-z 0-9 +=,.@-); the profile must accept it",
  },
  "pkcs8-password": {
    type: "string",
    value: "PASSPHRASE",
    description:
      "key passphrase (the helper's flag; prefer ROLESANYWHERE_KEY_PASSPHRASE[_FILE], argv is visible to other users; refused by serve, update and exec --supervise)",
  },
  "passphrase-file": {
    type: "string",
    value: "FILE",
    description: "file holding the key passphrase (see also ROLESANYWHERE_KEY_PASSPHRASE[_FILE])",
  },
  "cache-dir": {
    type: "string",
    value: "DIR",
    env: "ROLESANYWHERE_CACHE_DIR",
    description: "credential cache directory (default $XDG_RUNTIME_DIR/certrole or ~/.cache/certrole)",
  },
  "no-cache": {
    type: "boolean",
    env: "ROLESANYWHERE_NO_CACHE",
    description: "always call CreateSession; neither read nor write the cache",
  },
  "refresh-before": {
    type: "string",
    value: "SECONDS",
    env: "ROLESANYWHERE_REFRESH_BEFORE",
    default: String(DEFAULT_REFRESH_BEFORE_SECONDS),
    description: "stop reusing cached credentials this long before they expire",
  },
  "connect-timeout": {
    type: "string",
    value: "SECONDS",
    env: "ROLESANYWHERE_CONNECT_TIMEOUT",
    default: String(DEFAULT_CONNECT_TIMEOUT_SECONDS),
    description: "give up connecting (TCP, proxy CONNECT and TLS handshake together) after this long",
  },
  "timeout": {
    type: "string",
    value: "SECONDS",
    env: "ROLESANYWHERE_TIMEOUT",
    default: String(DEFAULT_TIMEOUT_SECONDS),
    description: "give up on one CreateSession attempt (connect, proxy, TLS, request, whole response) after this long",
  },
  "with-proxy": {
    type: "boolean",
    description: "accepted for compatibility: HTTPS_PROXY / HTTP_PROXY / NO_PROXY are always honoured",
  },
  "no-verify-ssl": {
    type: "boolean",
    description: "not supported: trust a private CA with AWS_CA_BUNDLE instead",
  },
  "debug": {
    type: "boolean",
    env: "ROLESANYWHERE_DEBUG",
    description: "explain each step on stderr (canonical request, string to sign; never secrets)",
  },
  // AWS's helper's flags for key stores certrole does not read: accepted so that a copied
  // command line gets a line saying what to use instead, not a usage error (helperOnlyFlags).
  "system-store-name": { type: "string", value: "NAME", hidden: true, description: "ignored (Windows only)" },
  "cert-selector": { type: "string", value: "SELECTOR", hidden: true, description: "not supported" },
  "use-latest-expiring-certificate": { type: "boolean", hidden: true, description: "not supported" },
  "pkcs11-lib": { type: "string", value: "LIB", hidden: true, description: "not supported" },
  "reuse-pin": { type: "boolean", hidden: true, description: "not supported" },
  "tpm-key-password": { type: "string", value: "PASSWORD", hidden: true, description: "not supported" },
  "no-tpm-key-password": { type: "boolean", hidden: true, description: "not supported" },
} as const satisfies FlagSpecs;

const KEY_FILES = "give the certificate and key as files with --certificate and --private-key (PEM or DER, " +
  "the key encrypted or not)";

/** What certrole says to each helper flag for a key store it does not support, `files` being the alternative. */
function helperOnlyFlags(files: string): readonly (readonly [keyof typeof SESSION_FLAGS, string])[] {
  return [
    ["cert-selector", `certificate stores (Windows, macOS Keychain) are not supported: ${files}`],
    ["use-latest-expiring-certificate", `certificate stores (Windows, macOS Keychain) are not supported: ${files}`],
    ["pkcs11-lib", `PKCS#11 tokens are not supported: ${files}`],
    ["reuse-pin", `PKCS#11 tokens are not supported: ${files}`],
    ["tpm-key-password", `TPM keys are not supported: ${files}`],
    ["no-tpm-key-password", `TPM keys are not supported: ${files}`],
  ];
}

/**
 * Helper flags for stores certrole does not read, and PKCS#11 URIs or TPM handles given as files.
 * `files` says what to give instead (read-certificate-data takes no key).
 */
export function refuseKeyStores(flags: ParsedFlags, files = KEY_FILES): void {
  for (const [name, message] of helperOnlyFlags(files)) {
    if (flags.values[name] !== undefined) fail("UnsupportedSetting", `--${name}: ${message}`);
  }
  for (const name of ["certificate", "private-key"] as const) {
    const value = flags.values[name];
    if (typeof value !== "string") continue;
    if (/^pkcs11:/i.test(value)) {
      fail(
        "UnsupportedSetting",
        `${flags.sources[name]} is a PKCS#11 URI; PKCS#11 tokens are not supported: ${files}`,
      );
    }
    if (name === "private-key" && /^handle:/i.test(value)) {
      fail("UnsupportedSetting", `${flags.sources[name]} is a TPM handle; TPM keys are not supported: ${files}`);
    }
  }
  if (flags.values["system-store-name"] !== undefined) {
    debugLog(Boolean(flags.values.debug))(
      "--system-store-name names a Windows certificate store; ignored, as AWS's helper ignores it on Linux",
    );
  }
}

export interface SessionSettings {
  readonly certificatePath: string;
  readonly privateKeyPath?: string;
  readonly intermediatesPath?: string;
  readonly trustAnchorArn: Arn;
  readonly profileArn: Arn;
  readonly roleArn: Arn;
  readonly region: string;
  readonly endpoint: string;
  readonly durationSeconds: number;
  readonly roleSessionName?: string;
  readonly passphraseInline?: string;
  readonly passphraseFile?: string;
  readonly cacheDir?: string;
  readonly noCache: boolean;
  readonly refreshBeforeSeconds: number;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly debug: boolean;
}

const REQUIRED: readonly (readonly [keyof typeof SESSION_FLAGS, string])[] = [
  ["certificate", "the certificate file"],
  ["trust-anchor-arn", "the trust anchor's ARN"],
  ["profile-arn", "the profile's ARN"],
  ["role-arn", "the role to assume"],
];

function seconds(flags: ParsedFlags, name: keyof typeof SESSION_FLAGS, min: number, max: number): number {
  const raw = (flags.values[name] as string | undefined) ?? (SESSION_FLAGS[name] as FlagSpec).default!;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || value < min || value > max) {
    fail(
      "InvalidSetting",
      `${flags.sources[name] ?? `--${name}`} must be a number of seconds from ${min} to ${max}, not "${raw}"`,
    );
  }
  return value;
}

/** Missing settings, each as "--flag / ENV (what it is)". */
export function missingSessionSettings(flags: ParsedFlags): string[] {
  return REQUIRED.filter(([name]) => !flags.values[name]).map(([name, what]) => {
    const env = (SESSION_FLAGS[name] as FlagSpec).env;
    return `--${name}${env ? ` / ${env}` : ""} (${what})`;
  });
}

/**
 * `--pkcs8-password` for a command that stays running (serve, update, exec --supervise): its argv,
 * passphrase included, is readable in /proc/PID/cmdline (and `ps`) for the process's whole life,
 * so it is refused in favour of the environment or a file. `what` names the command.
 */
export function refuseArgvPassphrase(flags: ParsedFlags, what: string): void {
  if (flags.values["pkcs8-password"] === undefined) return;
  fail(
    "ConflictingSettings",
    `--pkcs8-password is refused for \`certrole ${what}\`, whose command line stays readable in /proc while it runs: ` +
      "give the passphrase in ROLESANYWHERE_KEY_PASSPHRASE_FILE (or --passphrase-file, ROLESANYWHERE_KEY_PASSPHRASE)",
  );
}

export function sessionSettingsFrom(
  flags: ParsedFlags,
  env: (name: string) => string | undefined,
): SessionSettings {
  refuseKeyStores(flags);
  const missing = missingSessionSettings(flags);
  if (missing.length) {
    throw new CertroleError("MissingSettings", `missing settings: ${missing.join(", ")}`);
  }
  if (flags.values["no-verify-ssl"]) {
    fail("UnsupportedSetting", "--no-verify-ssl is not supported: trust the endpoint's CA with AWS_CA_BUNDLE=FILE");
  }
  const value = (name: keyof typeof SESSION_FLAGS) => flags.values[name] as string | undefined;
  const setting = (name: keyof typeof SESSION_FLAGS) => flags.sources[name] ?? `--${name}`;
  const trustAnchorArn = expectArn(
    value("trust-anchor-arn")!,
    "trust anchor ARN",
    "rolesanywhere",
    "trust-anchor/",
    setting("trust-anchor-arn"),
  );
  const profileArn = expectArn(
    value("profile-arn")!,
    "profile ARN",
    "rolesanywhere",
    "profile/",
    setting("profile-arn"),
  );
  const roleArn = expectArn(value("role-arn")!, "role ARN", "iam", "role/", setting("role-arn"));
  const { region, endpoint } = resolveEndpoint(
    {
      region: value("region"),
      endpoint: value("endpoint"),
      trustAnchor: trustAnchorArn,
      profile: profileArn,
      role: roleArn,
    },
    env,
  );
  const roleSessionName = value("role-session-name");
  if (roleSessionName !== undefined && !/^[\w+=,.@-]{2,64}$/.test(roleSessionName)) {
    fail(
      "InvalidSetting",
      `${setting("role-session-name")} "${roleSessionName}" must be 2 to 64 characters of A-Z a-z 0-9 + = , . @ - _`,
    );
  }
  const durationSeconds = seconds(flags, "session-duration", 900, 43200);
  if (!Number.isInteger(durationSeconds)) {
    fail("InvalidSetting", `${setting("session-duration")} must be whole seconds`);
  }
  const maxAttempts = maxAttemptsFrom(env("AWS_MAX_ATTEMPTS"));
  if (Number.isNaN(maxAttempts)) {
    fail("InvalidSetting", `AWS_MAX_ATTEMPTS must be a positive whole number, not "${env("AWS_MAX_ATTEMPTS")}"`);
  }
  return {
    certificatePath: value("certificate")!,
    privateKeyPath: value("private-key"),
    intermediatesPath: value("intermediates"),
    trustAnchorArn,
    profileArn,
    roleArn,
    region,
    endpoint,
    durationSeconds,
    roleSessionName,
    passphraseInline: value("pkcs8-password"),
    passphraseFile: value("passphrase-file"),
    cacheDir: value("cache-dir"),
    noCache: Boolean(flags.values["no-cache"]),
    refreshBeforeSeconds: seconds(flags, "refresh-before", 0, 43200),
    connectTimeoutMs: seconds(flags, "connect-timeout", 0.1, 600) * 1000,
    timeoutMs: seconds(flags, "timeout", 0.1, 3600) * 1000,
    maxAttempts: maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    debug: Boolean(flags.values.debug),
  };
}
