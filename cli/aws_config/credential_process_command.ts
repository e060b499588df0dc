/**
 * The credential_process command line that `certrole exec` writes: this certrole, the
 * credential-process subcommand and the session settings as flags, paths made absolute (AWS
 * clients run it from their own working directory). Never the passphrase: the child reads it
 * from the environment or the passphrase file it inherits. Pure.
 */
import type { SessionSettings } from "../session_settings.ts";
import { shellJoin } from "../shell_quote.ts";

function absolute(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd.replace(/\/$/, "")}/${path}`;
}

export function credentialProcessArgs(settings: SessionSettings, cwd: string): string[] {
  const args = [
    "credential-process",
    "--certificate",
    absolute(settings.certificatePath, cwd),
  ];
  if (settings.privateKeyPath) args.push("--private-key", absolute(settings.privateKeyPath, cwd));
  if (settings.intermediatesPath) args.push("--intermediates", absolute(settings.intermediatesPath, cwd));
  args.push(
    "--trust-anchor-arn",
    settings.trustAnchorArn.text,
    "--profile-arn",
    settings.profileArn.text,
    "--role-arn",
    settings.roleArn.text,
    "--region",
    settings.region,
    "--endpoint",
    settings.endpoint,
    "--session-duration",
    String(settings.durationSeconds),
  );
  if (settings.roleSessionName) args.push("--role-session-name", settings.roleSessionName);
  if (settings.passphraseFile) args.push("--passphrase-file", absolute(settings.passphraseFile, cwd));
  if (settings.noCache) args.push("--no-cache");
  else if (settings.cacheDir) args.push("--cache-dir", absolute(settings.cacheDir, cwd));
  args.push("--refresh-before", String(settings.refreshBeforeSeconds));
  args.push(
    "--connect-timeout",
    String(settings.connectTimeoutMs / 1000),
    "--timeout",
    String(settings.timeoutMs / 1000),
  );
  return args;
}

/** One line, quoted for both sh (JS, Go, Java SDKs) and shlex.split (botocore). */
export function credentialProcessLine(self: readonly string[], settings: SessionSettings, cwd: string): string {
  return shellJoin([...self, ...credentialProcessArgs(settings, cwd)]);
}
