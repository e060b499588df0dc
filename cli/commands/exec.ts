/**
 * `certrole exec`: the container entrypoint. Checks the certificate and key, fetches credentials
 * once (so a container that cannot authenticate stops at once), writes a private AWS config whose
 * profile runs `certrole credential-process`, and replaces itself with the command.
 */
import { writeFileAtomically } from "../atomic_write.ts";
import { credentialProcessLine } from "../aws_config/credential_process_command.ts";
import { mergeProfile, profileHeader } from "../aws_config/config_file.ts";
import type { Command } from "../command.ts";
import { writeStderr, writeStdout } from "../command.ts";
import { defaultCacheDir, prepareCacheDir } from "../credentials/cache.ts";
import { type Environment, loadSessionIdentity, obtainCredentials } from "../credentials/obtain.ts";
import { type DebugLog, debugLog } from "../debug_log.ts";
import { fail, messageOf } from "../errors.ts";
import { MAX_INPUT_FILE_BYTES } from "../identity/input_file.ts";
import { commandEnvironment, undecodableCommandEntries } from "../process/command_environment.ts";
import { replaceProcess, resolveCommand } from "../process/replace_process.ts";
import { selfCommand } from "../self_command.ts";
import {
  refuseArgvPassphrase,
  SESSION_FLAGS,
  type SessionSettings,
  sessionSettingsFrom,
  TIMEOUT_HELP,
} from "../session_settings.ts";
import { sha256Hex } from "../signing/sigv4_x509.ts";
import { readEnv, undecodableEnvironment } from "../process/environment.ts";

const FLAGS = {
  ...SESSION_FLAGS,
  "aws-profile": {
    type: "string",
    value: "NAME",
    env: "ROLESANYWHERE_AWS_PROFILE",
    description: "AWS profile to write (default: AWS_PROFILE, else default)",
  },
  "preflight": {
    type: "boolean",
    env: "ROLESANYWHERE_PREFLIGHT",
    default: "true",
    description: "fetch credentials before starting the command (--no-preflight: local checks only)",
  },
  "print-config": {
    type: "boolean",
    description: "print the AWS config exec would write and exit (to bake into an image)",
  },
  "supervise": {
    type: "boolean",
    env: "ROLESANYWHERE_SUPERVISE",
    description: "stay PID 1 (like tini) and serve credentials to COMMAND over the container endpoint",
  },
} as const;

/** A file's text; a FIFO (which would block), a device (which might never end) or a huge file is an error. */
async function readRegularText(path: string): Promise<string> {
  const info = await Deno.stat(path);
  if (info.isDirectory) throw new Error("it is a directory");
  if (!info.isFile) throw new Error("not a regular file: a pipe, socket or device");
  if (info.size > MAX_INPUT_FILE_BYTES) throw new Error(`larger than ${MAX_INPUT_FILE_BYTES} bytes`);
  return await Deno.readTextFile(path);
}

/**
 * Variables removed from a supervised command's environment: the passphrase (the command never
 * needs it), and what SDKs would rank above the container provider or read instead of its token.
 */
const SUPERVISED_REMOVED = [
  "ROLESANYWHERE_KEY_PASSPHRASE",
  "ROLESANYWHERE_KEY_PASSPHRASE_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];
const SHADOWING_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
];

/**
 * The user's AWS config, if any: AWS_CONFIG_FILE, else ~/.aws/config. Like botocore, an
 * unreadable default file counts as none (a container run with an arbitrary --user), while an
 * AWS_CONFIG_FILE the user named must be readable.
 */
async function readUserConfig(
  env: (name: string) => string | undefined,
  debug: DebugLog,
): Promise<{ path?: string; text?: string }> {
  const home = env("HOME");
  const explicit = env("AWS_CONFIG_FILE");
  const path = explicit || (home ? `${home}/.aws/config` : undefined);
  if (!path) return {};
  try {
    return { path, text: await readRegularText(path) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { path };
    if (!explicit) {
      debug(`ignoring ${path}: ${messageOf(error)}`);
      return {};
    }
    fail(
      "FileUnreadable",
      `AWS config "${path}" cannot be read (${messageOf(error)}): fix its permissions or unset AWS_CONFIG_FILE`,
    );
  }
}

/** Warns about settings AWS clients would use before the profile certrole writes. */
function warnAboutShadowing(env: (name: string) => string | undefined, profile: string, debug: DebugLog): void {
  if (env("AWS_ACCESS_KEY_ID")) {
    writeStderr(
      "certrole: warning: AWS_ACCESS_KEY_ID is set; AWS clients use it instead of the certificate's credentials (unset it)\n",
    );
  }
  const home = env("HOME");
  const credentialsFile = env("AWS_SHARED_CREDENTIALS_FILE") || (home ? `${home}/.aws/credentials` : undefined);
  if (!credentialsFile) return;
  try {
    const info = Deno.statSync(credentialsFile);
    if (!info.isFile || info.size > MAX_INPUT_FILE_BYTES) throw new Error("not a regular file of a sensible size");
    const text = Deno.readTextFileSync(credentialsFile);
    if (text.split(/\r?\n/).some((line) => line.trim() === `[${profile}]`)) {
      writeStderr(
        `certrole: warning: ${credentialsFile} defines [${profile}], which AWS clients read before credential_process (remove it or set ROLESANYWHERE_AWS_PROFILE)\n`,
      );
    }
  } catch {
    debug(`no shared credentials file at ${credentialsFile}`);
  }
}

/**
 * As PID 1 (a container's entrypoint) the kernel drops signals without a handler, so a
 * `docker stop` during the preflight would wait for SIGKILL; and Deno's own handler for SIGHUP,
 * SIGINT and SIGTERM (in place once any signal has a listener, or after 500 ms) tries to re-raise
 * the signal, which PID 1 never receives, and ends in SIGSEGV. Until the exec (which resets these
 * handlers to the defaults for the command) SIGTERM, SIGINT and SIGHUP end certrole as they would
 * any other process: exit 128 + the signal number.
 */
function stopOnSignalsAsPid1(debug: DebugLog): () => void {
  if (Deno.pid !== 1) return () => {};
  const listeners = ([["SIGTERM", 15], ["SIGINT", 2], ["SIGHUP", 1]] as const).map(([signal, number]) =>
    [signal, () => {
      debug(`${signal} before the command started: stopping`);
      Deno.exit(128 + number);
    }] as const
  );
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  return () => {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  };
}

/**
 * Where the config goes: the private cache directory, else a fresh private temporary one, which
 * then also holds the credential cache the credential_process line names (without it every AWS
 * call would call CreateSession). With nothing writable (a read-only container without a tmpfs)
 * it says what to mount.
 */
async function privateDirectory(
  settings: SessionSettings,
  env: (name: string) => string | undefined,
  debug: DebugLog,
): Promise<{ directory: string; settings: SessionSettings; temporary: boolean }> {
  const base = settings.cacheDir ?? defaultCacheDir(env);
  const prepared = base && await prepareCacheDir(base, debug);
  if (prepared) return { directory: prepared, settings, temporary: false };
  let directory: string;
  try {
    directory = await Deno.makeTempDir({ prefix: "certrole-" });
  } catch (error) {
    const temporary = `the temporary directory "${env("TMPDIR") || "/tmp"}"`;
    fail(
      "NoWritableDirectory",
      `exec has nowhere to write its AWS config: ${
        base ? `neither the cache directory "${base}" nor ${temporary} is writable` : `${temporary} is not writable`
      } (${
        messageOf(error)
      }): mount one (docker run --tmpfs /tmp) or set ROLESANYWHERE_CACHE_DIR to a writable directory`,
    );
  }
  debug(`no usable cache directory: ${directory} holds the AWS config${settings.noCache ? "" : " and the cache"}`);
  return { directory, settings: settings.noCache ? settings : { ...settings, cacheDir: directory }, temporary: true };
}

/** Writes privately and atomically; the name follows the content, so identical setups share a file. */
async function writeConfig(directory: string, text: string): Promise<string> {
  const path = `${directory}/aws-config-${(await sha256Hex(text)).slice(0, 16)}`;
  try {
    await writeFileAtomically(path, text, { mode: 0o600 });
  } catch (error) {
    fail(
      "CannotWrite",
      `exec cannot write its AWS config in ${directory} (${
        messageOf(error)
      }): free space there or set ROLESANYWHERE_CACHE_DIR to another directory`,
    );
  }
  return path;
}

export const command: Command = {
  name: "exec",
  summary: "run a command with a working AWS profile backed by the certificate",
  usage: "certrole exec [flags] [--] COMMAND [ARGS...]",
  description: `
The container entrypoint. Reads the walkthrough's ROLESANYWHERE_* variables (or the same flags as
credential-process), checks the certificate and key (decrypted in memory, never on disk), fetches
credentials once so a container that cannot authenticate stops at once, then writes a private AWS
config (0600, exported as AWS_CONFIG_FILE; your own config's other profiles are kept, your file is
never edited) whose profile runs \`certrole credential-process\`, and replaces itself with COMMAND:
same PID, signals and exit code, as sh's exec.

With --supervise (ROLESANYWHERE_SUPERVISE=true) certrole stays PID 1 instead, as tini does: it
serves the credentials to COMMAND over the container endpoint (127.0.0.1, a free port, a fresh
token in AWS_CONTAINER_CREDENTIALS_FULL_URI / AWS_CONTAINER_AUTHORIZATION_TOKEN), refreshed in the
background like \`certrole serve\`, in a config without credential_process; the passphrase
variables are removed from COMMAND's environment. It forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT,
SIGUSR2 and SIGWINCH (not SIGUSR1: Deno would open its inspector), reaps orphaned processes and
exits with COMMAND's code (128 + the signal when it was killed). No STOPSIGNAL workaround is
needed: COMMAND is not PID 1, so SIGTERM's default action applies to it.

Exit codes: COMMAND's own; 127 when COMMAND is not found, 126 when it cannot run; 1 or 2 for
certrole's errors before COMMAND starts.

${TIMEOUT_HELP}`,
  flags: FLAGS,
  stopAtPositional: true,
  examples: [
    "certrole exec -- aws s3 ls",
    "docker run -v $(pwd):/rolesanywhere -e ROLESANYWHERE_CERT_LOCATION=/rolesanywhere/cert.pem \\",
    "    -e ROLESANYWHERE_KEY_LOCATION=/rolesanywhere/key.pem -e ROLESANYWHERE_KEY_PASSPHRASE_FILE=/run/secrets/key \\",
    "    -e ROLESANYWHERE_TRUST_ANCHOR_ARN=... -e ROLESANYWHERE_PROFILE_ARN=... -e ROLESANYWHERE_ROLE_ARN=... IMAGE s3 ls",
    "certrole exec --print-config >> ~/.aws/config   # bake the profile instead",
    "ROLESANYWHERE_PREFLIGHT=false certrole exec -- python3 app.py   # start offline; local checks still run",
    "certrole exec --supervise -- python3 app.py   # certrole stays PID 1 and serves the app's credentials",
  ],
  async run(flags) {
    const stopOnSignals = stopOnSignalsAsPid1(debugLog(Boolean(flags.values.debug)));
    const env = readEnv;
    if (flags.values.supervise) refuseArgvPassphrase(flags, "exec --supervise");
    const settings = sessionSettingsFrom(flags, env);
    const debug = debugLog(settings.debug);
    const profile = (flags.values["aws-profile"] as string | undefined) || env("AWS_PROFILE") || "default";
    if (!/^[\w.@+-]+$/.test(profile)) {
      fail("InvalidSetting", `AWS profile name "${profile}" must be letters, digits and . @ + - _`);
    }
    const commandLine = flags.positionals;
    const printOnly = Boolean(flags.values["print-config"]);
    if (!printOnly && commandLine.length === 0) {
      fail("UsageError", "no command to run: give one after the flags, e.g. `certrole exec -- aws s3 ls`");
    }

    if (printOnly) {
      const line = credentialProcessLine(selfCommand(env), settings, Deno.cwd());
      writeStdout(`${profileHeader(profile)}\nregion = ${settings.region}\ncredential_process = ${line}\n`);
      return 0;
    }
    const childEnv = commandEnvironment(Deno.env.toObject());
    const resolved = resolveCommand(commandLine[0], childEnv.PATH, Deno.cwd());
    if (!resolved.ok) {
      fail(resolved.code, resolved.message);
    }

    const environment = { env, now: () => new Date(), debug };
    if (flags.values.supervise) {
      return await superviseCommand(settings, environment, profile, resolved.path, commandLine, childEnv, {
        stopOnSignals,
        preflight: flags.values.preflight,
      });
    }
    const identity = await loadSessionIdentity(settings, environment);
    // Chosen before the preflight, so that the preflight's credentials prime the cache the command's calls use.
    const chosen = await privateDirectory(settings, env, debug);
    try {
      if (flags.values.preflight === false) {
        debug("preflight disabled: not calling CreateSession before starting the command");
      } else {
        const { credentials, source } = await obtainCredentials(chosen.settings, environment, identity);
        debug(
          `preflight: credentials from ${source}, access key ${credentials.accessKeyId}, expires ${credentials.expiration}`,
        );
      }
    } catch (error) {
      if (chosen.temporary) await Deno.remove(chosen.directory, { recursive: true }).catch(() => {});
      throw error;
    }
    const line = credentialProcessLine(selfCommand(env), chosen.settings, Deno.cwd());

    const path = await writeCommandConfig(chosen.directory, settings, env, debug, profile, line);
    warnAboutShadowing(env, profile, debug);

    childEnv.AWS_CONFIG_FILE = path;
    if (profile !== "default" && !childEnv.AWS_PROFILE) childEnv.AWS_PROFILE = profile;
    if (settings.passphraseInline !== undefined) {
      // --pkcs8-password cannot go on the credential_process line (argv is visible): hand it down privately.
      childEnv.ROLESANYWHERE_KEY_PASSPHRASE = settings.passphraseInline;
      delete childEnv.ROLESANYWHERE_KEY_PASSPHRASE_FILE;
    }
    debug(`exec ${resolved.path} (${commandLine.length - 1} argument(s)) as PID ${Deno.pid}`);
    replaceProcess(resolved.path, commandLine, childEnv, undecodableCommandEntries(undecodableEnvironment(), childEnv));
  },
};

/** The private AWS config the command gets: the user's, with the profile made ready for `settings`. */
async function writeCommandConfig(
  directory: string,
  settings: SessionSettings,
  env: (name: string) => string | undefined,
  debug: DebugLog,
  profile: string,
  credentialProcess: string | undefined,
): Promise<string> {
  const user = await readUserConfig(env, debug);
  const merged = mergeProfile(user.text, profile, { credentialProcess, region: settings.region });
  const note = `# Written by certrole exec for profile "${profile}"${
    user.text !== undefined ? `, merged from ${user.path}` : ""
  }.\n# Private to this process tree; edit your own config instead of this file.\n`;
  const path = await writeConfig(directory, note + merged.text);
  debug(`wrote AWS config ${path} (profile ${profile}, region ${merged.region})`);
  if (merged.removed.length) {
    debug(`removed from the profile because they would shadow certrole's credentials: ${merged.removed.join(", ")}`);
  }
  return path;
}

/**
 * --supervise: certrole stays PID 1 and serves the credentials to the command over the
 * container endpoint (127.0.0.1, a free port, a token only the command gets), in a config
 * without credential_process or anything else SDKs would rank above that provider.
 */
async function superviseCommand(
  settings: SessionSettings,
  environment: Environment,
  profile: string,
  path: string,
  commandLine: readonly string[],
  childEnv: Record<string, string>,
  options: { stopOnSignals: () => void; preflight: unknown },
): Promise<number> {
  const { env, debug } = environment;
  // Loaded only here: replace mode (the default) does not pay for the server and the supervisor.
  const [{ supervise }, { AuthorizationToken }, { CONTAINER_PATH }, { startCredentialServer }] = await Promise.all([
    import("../process/supervisor.ts"),
    import("../serve/authorization_token.ts"),
    import("../serve/credential_endpoints.ts"),
    import("../serve/credential_server.ts"),
  ]);
  if (options.preflight === false) {
    debug("--supervise fetches credentials before the command starts: preflight stays on");
  }
  const token = AuthorizationToken.inMemory();
  const server = await startCredentialServer({
    settings,
    environment,
    listen: { hostname: "127.0.0.1", port: 0, loopback: true },
    token,
    imds: false, // IMDS has no client authentication: only the command, holding the token, gets credentials
    log: (line) => writeStderr(`certrole exec: ${line}\n`),
  });
  debug(
    `serving credentials on 127.0.0.1:${server.port}: access key ${server.first.credentials.accessKeyId}, ` +
      `expires ${server.first.credentials.expiration}`,
  );
  const { directory } = await privateDirectory(settings, env, debug);
  const configPath = await writeCommandConfig(directory, settings, env, debug, profile, undefined);
  for (const name of SUPERVISED_REMOVED) delete childEnv[name];
  const shadowing = SHADOWING_VARIABLES.filter((name) => childEnv[name] !== undefined);
  for (const name of shadowing) delete childEnv[name];
  if (shadowing.length) {
    writeStderr(
      `certrole: warning: removed ${shadowing.join(", ")} from the command's environment: ` +
        "SDKs would use them instead of the certificate's credentials\n",
    );
  }
  warnAboutShadowing((name) => childEnv[name], profile, debug);
  childEnv.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${server.port}${CONTAINER_PATH}`;
  childEnv.AWS_CONTAINER_AUTHORIZATION_TOKEN = token.value;
  childEnv.AWS_CONFIG_FILE = configPath;
  if (profile !== "default" && !childEnv.AWS_PROFILE) childEnv.AWS_PROFILE = profile;
  const code = await supervise({ path, argv: commandLine, env: childEnv, debug, started: options.stopOnSignals });
  debug(`the command ended: exit ${code}; stopping the credential server`);
  await server.close();
  return code;
}
