/** `certrole update`: the credentials in the shared credentials file, once or kept fresh (the helper's `update`). */
import { mergeCredentials } from "../aws_config/credentials_file.ts";
import type { Command } from "../command.ts";
import { writeStderr } from "../command.ts";
import type { Held } from "../credentials/credential_keeper.ts";
import { startCredentialSupply } from "../credentials/credential_supply.ts";
import { metadataTime } from "../credentials/refresh_schedule.ts";
import { debugLog } from "../debug_log.ts";
import { CertroleError, fail, messageOf } from "../errors.ts";
import { readInputFile } from "../identity/input_file.ts";
import { listenForStop } from "../process/stop_signals.ts";
import { checkReplaceable, replaceFile } from "../atomic_write.ts";
import { refuseArgvPassphrase, SESSION_FLAGS, sessionSettingsFrom } from "../session_settings.ts";
import { readEnv } from "../process/environment.ts";

const FLAGS = {
  ...SESSION_FLAGS,
  "profile": {
    type: "string",
    value: "NAME",
    default: "default",
    description: "profile (section) of the credentials file to write",
  },
  "once": { type: "boolean", description: "write once and exit (else refresh until stopped)" },
} as const;

/** AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials (its directory created 0700). */
async function credentialsPath(env: (name: string) => string | undefined): Promise<string> {
  const explicit = env("AWS_SHARED_CREDENTIALS_FILE");
  if (explicit) return explicit;
  const home = env("HOME");
  if (!home) fail("MissingSettings", "no HOME to find ~/.aws/credentials in: set AWS_SHARED_CREDENTIALS_FILE");
  try {
    await Deno.mkdir(`${home}/.aws`, { recursive: true, mode: 0o700 });
  } catch (error) {
    fail("CannotWrite", `${home}/.aws cannot be created (${messageOf(error)}): set AWS_SHARED_CREDENTIALS_FILE`);
  }
  return `${home}/.aws/credentials`;
}

async function readExisting(path: string): Promise<string | undefined> {
  try {
    // A regular file, bounded: a FIFO would block forever and /dev/zero never end.
    return new TextDecoder().decode(
      await readInputFile(path, { what: "credentials", setting: "AWS_SHARED_CREDENTIALS_FILE" }),
    );
  } catch (error) {
    if (error instanceof CertroleError && error.code === "FileNotFound") return undefined;
    throw error;
  }
}

export const command: Command = {
  name: "update",
  summary: "write credentials into the shared credentials file (~/.aws/credentials), once or kept fresh",
  usage: "certrole update [flags] [--profile NAME] [--once]",
  description: `
Writes the role's temporary credentials (aws_access_key_id, aws_secret_access_key,
aws_session_token) into the shared credentials file, AWS_SHARED_CREDENTIALS_FILE or
~/.aws/credentials, under --profile (default "default"). Every other line and profile of the file
is kept; the file is replaced atomically and is 0600. With --once it writes and exits; otherwise it
stays running and rewrites the file on serve's schedule (half the lifetime or 20 minutes before
expiry, whichever is sooner) and at once when the certificate files are replaced, until SIGTERM or
SIGINT. Takes every credential-process setting. For SDKs that can reach it, \`certrole serve\` needs
no file: prefer it.`,
  flags: FLAGS,
  examples: [
    "certrole update --once --profile bucket-lister",
    "certrole update &   # keeps [default] in ~/.aws/credentials fresh",
    "AWS_SHARED_CREDENTIALS_FILE=/run/aws/credentials certrole update",
  ],
  async run(flags) {
    const env = readEnv;
    if (!flags.values.once) refuseArgvPassphrase(flags, "update");
    const settings = sessionSettingsFrom(flags, env);
    const profile = (flags.values.profile as string | undefined) ?? "default";
    if (!/^[\w.@+-]+$/.test(profile)) {
      fail("InvalidSetting", `--profile "${profile}" must be letters, digits and . @ + - _`);
    }
    const path = await credentialsPath(env);
    await checkReplaceable(path, "credentials file"); // before the first CreateSession, whose result goes there
    const log = (line: string) => writeStderr(`certrole update: ${line}\n`);
    const write = async (held: Held) => {
      const text = mergeCredentials(await readExisting(path), profile, held.credentials);
      await replaceFile(path, text, { mode: 0o600, what: "credentials file" });
      log(
        `wrote [${profile}] in ${path}: access key ${held.credentials.accessKeyId}, ` +
          `expires ${metadataTime(held.plan.expiresAt)}` +
          (flags.values.once ? "" : `, next refresh ${metadataTime(held.plan.refreshAt)}`),
      );
    };
    const stop = listenForStop();
    const supply = await stop.starting(startCredentialSupply({
      settings,
      environment: { env, now: () => new Date(), debug: debugLog(settings.debug) },
      log,
      onFetched: write,
    }));
    stop.onHangup(() => void supply.keeper.refresh("SIGHUP"));
    if (flags.values.once) {
      supply.stop();
      stop.dispose();
      return 0;
    }
    const signal = await stop.stopped;
    stop.dispose();
    supply.stop();
    log(`stopped on ${signal}`);
    return 0;
  },
};
