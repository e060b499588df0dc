/**
 * The settings of a Roles Anywhere session, shared by `credential-process`, `exec` and
 * `config`: the official helper's flag names, each with the walkthrough's environment variable
 * as fallback, checked and resolved into one value. A missing setting is reported together
 * with every other missing one.
 */
import { type Arn, expectArn } from "./arn.ts";
import { DEFAULT_REFRESH_BEFORE_SECONDS } from "./credentials/cache.ts";
import { CertroleError, fail } from "./errors.ts";
import type { FlagSpec, FlagSpecs, ParsedFlags } from "./flags.ts";
import { resolveEndpoint } from "./rolesanywhere/endpoint.ts";
import { DEFAULT_MAX_ATTEMPTS, maxAttemptsFrom } from "./transport/retry.ts";

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
      "key passphrase (the helper's flag; prefer ROLESANYWHERE_KEY_PASSPHRASE[_FILE], argv is visible to other users)",
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
    default: "10",
    description: "give up connecting (TCP, proxy, TLS) after this long",
  },
  "timeout": {
    type: "string",
    value: "SECONDS",
    env: "ROLESANYWHERE_TIMEOUT",
    default: "30",
    description: "give up on one CreateSession attempt after this long",
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
} as const satisfies FlagSpecs;

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

export function sessionSettingsFrom(
  flags: ParsedFlags,
  env: (name: string) => string | undefined,
): SessionSettings {
  const missing = missingSessionSettings(flags);
  if (missing.length) {
    throw new CertroleError("MissingSettings", `missing settings: ${missing.join(", ")}`, 2);
  }
  if (flags.values["no-verify-ssl"]) {
    fail("UnsupportedSetting", "--no-verify-ssl is not supported: trust the endpoint's CA with AWS_CA_BUNDLE=FILE", 2);
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
    { region: value("region"), endpoint: value("endpoint"), trustAnchor: trustAnchorArn, profile: profileArn },
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
