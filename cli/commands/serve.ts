/** `certrole serve`: a credential server for the AWS SDKs' container provider and IMDSv2. */
import type { Command } from "../command.ts";
import { writeStderr, writeStdout } from "../command.ts";
import { defaultCacheDir, prepareCacheDir } from "../credentials/cache.ts";
import { metadataTime } from "../credentials/refresh_schedule.ts";
import { debugLog } from "../debug_log.ts";
import { fail } from "../errors.ts";
import type { ParsedFlags } from "../flags.ts";
import { listenForStop } from "../process/stop_signals.ts";
import { checkReplaceable, replaceFile } from "../atomic_write.ts";
import { AuthorizationToken } from "../serve/authorization_token.ts";
import { CONTAINER_PATH } from "../serve/credential_endpoints.ts";
import { startCredentialServer } from "../serve/credential_server.ts";
import { checkTlsPair, readTlsPair } from "../serve/tls_pair.ts";
import { clientHost, DEFAULT_LISTEN, type ListenAddress, parseListen, parsePort } from "../serve/listen_address.ts";
import { refuseArgvPassphrase, SESSION_FLAGS, sessionSettingsFrom } from "../session_settings.ts";
import { shellQuote } from "../shell_quote.ts";
import { readEnv } from "../process/environment.ts";

export const SERVE_FLAGS = {
  "listen": {
    type: "string",
    value: "HOST:PORT",
    env: "ROLESANYWHERE_LISTEN",
    default: DEFAULT_LISTEN,
    description: "address to listen on; not loopback only with --token-file and --tls-cert/--tls-key",
  },
  "port": { type: "string", value: "N", description: "shorthand for --listen 127.0.0.1:N (the helper's flag)" },
  "token-file": {
    type: "string",
    value: "FILE",
    env: "ROLESANYWHERE_TOKEN_FILE",
    description: "the container endpoint's token; created (random, 0440) when absent (default: in the cache dir)",
  },
  "env-file": {
    type: "string",
    value: "FILE",
    description: "write the NAME=value lines clients need (docker --env-file, Compose env_file)",
  },
  "ready-file": { type: "string", value: "FILE", description: "write the endpoint URL here once credentials are held" },
  "imds": {
    type: "boolean",
    env: "ROLESANYWHERE_IMDS",
    default: "true on loopback",
    description: "offer IMDSv2 too; it has no client authentication (--no-imds on a host shared with other users)",
  },
  "tls-cert": { type: "string", value: "FILE", env: "ROLESANYWHERE_TLS_CERT", description: "serve HTTPS: PEM chain" },
  "tls-key": { type: "string", value: "FILE", env: "ROLESANYWHERE_TLS_KEY", description: "serve HTTPS: PEM key" },
} as const;

const FLAGS = { ...SESSION_FLAGS, ...SERVE_FLAGS } as const;

function listenAddress(flags: ParsedFlags): ListenAddress {
  const port = flags.values.port as string | undefined;
  if (port !== undefined) {
    if (flags.sources.listen === "--listen") fail("ConflictingSettings", "give --listen or --port, not both");
    return { hostname: "127.0.0.1", port: parsePort(port, "--port"), loopback: true };
  }
  const listen = (flags.values.listen as string | undefined) ?? DEFAULT_LISTEN;
  return parseListen(listen, flags.sources.listen ?? "--listen");
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/** The TLS pair read and tried before any network call; the server listens with this very pair. */
async function checkedTls(certFile: string, keyFile: string) {
  const pair = await readTlsPair(certFile, keyFile);
  await checkTlsPair(pair, { certFile, keyFile });
  return { certFile, keyFile, pair };
}

export const command: Command = {
  name: "serve",
  summary: "serve credentials to SDKs and the AWS CLI (container endpoint, IMDSv2), refreshed in the background",
  usage: "certrole serve [flags]",
  description: `
Holds the role's credentials in memory and serves them to every AWS SDK and the AWS CLI, with no
credential_process: the container credential provider (AWS_CONTAINER_CREDENTIALS_FULL_URI, with
the token file as Authorization), IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT), and GET /healthz
(200 while valid credentials are held, 503 otherwise: a Kubernetes probe). Takes every
credential-process setting. One process serves one role; run one per role.

Start-up fails fast: the certificate, key and first CreateSession are checked before it listens.
Credentials are refreshed in the background at half their lifetime or 20 minutes before expiry,
whichever is sooner (up to 10% sooner at random), so clients never get credentials with under
15 minutes left. A failed refresh is retried with backoff while the held credentials are still
handed out; then requests get 503, never empty credentials. The certificate, intermediates and
key files are compared every second: a replaced certificate (including Kubernetes' ..data symlink
swap) is checked and used for new credentials at once; one that fails the checks is logged and
ignored. A replaced token file revokes the old token; a renewed --tls-cert/--tls-key takes over. SIGTERM or SIGINT: stop accepting, finish the answers in flight, exit 0.

It prints the client's variables as export lines; --env-file writes them as NAME=value lines.
Older AWS CLI v2 releases (Debian's 2.9.19) ignore AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: give
them AWS_CONTAINER_AUTHORIZATION_TOKEN="$(cat FILE)" instead. A --listen address other than loopback needs a
--token-file and --tls-cert/--tls-key (SDKs accept any host only over HTTPS) and turns IMDS off.
IMDS has no client authentication: on a host shared with other users, --no-imds leaves only the
token-protected container endpoint.`,
  flags: FLAGS,
  examples: [
    "certrole serve --token-file /run/certrole/token --env-file /run/certrole/client.env &",
    "set -a; . /run/certrole/client.env; set +a; aws s3 ls",
    "curl -fsS http://127.0.0.1:9911/healthz",
    "certrole serve --listen 0.0.0.0:9911 --token-file /secrets/token --tls-cert tls.crt --tls-key tls.key",
  ],
  async run(flags) {
    const env = readEnv;
    refuseArgvPassphrase(flags, "serve");
    const settings = sessionSettingsFrom(flags, env);
    const debug = debugLog(settings.debug);
    const log = (line: string) => writeStderr(`certrole serve: ${line}\n`);
    const listen = listenAddress(flags);
    const values = flags.values as Record<string, string | undefined>;
    const tlsCert = values["tls-cert"];
    const tlsKey = values["tls-key"];
    if ((tlsCert === undefined) !== (tlsKey === undefined)) {
      fail("ConflictingSettings", "give both --tls-cert and --tls-key, or neither");
    }
    const tokenFlag = values["token-file"];
    if (!listen.loopback && (tokenFlag === undefined || tlsCert === undefined)) {
      fail(
        "ConflictingSettings",
        `--listen ${listen.hostname}:${listen.port} is not a loopback address: SDKs send the token over plain HTTP ` +
          "only to loopback, so give --token-file and --tls-cert/--tls-key (or listen on 127.0.0.1)",
      );
    }
    const tls = tlsCert !== undefined ? await checkedTls(absolute(tlsCert), absolute(tlsKey!)) : undefined;
    // Written only once credentials are held: a typo must not cost a signed CreateSession first.
    if (values["env-file"]) await checkReplaceable(values["env-file"], "--env-file");
    if (values["ready-file"]) await checkReplaceable(values["ready-file"], "--ready-file");
    let tokenPath = tokenFlag;
    if (tokenPath === undefined) {
      const directory = settings.cacheDir ?? defaultCacheDir(env);
      const prepared = directory && await prepareCacheDir(directory, debug);
      if (!prepared) {
        fail(
          "NoWritableDirectory",
          "no private directory for the token file (no usable cache dir): give --token-file FILE",
        );
      }
      tokenPath = `${prepared}/serve.token`;
    }
    tokenPath = absolute(tokenPath);
    const { token, created } = await AuthorizationToken.fromFile(
      tokenPath,
      flags.sources["token-file"] ?? "the token file",
    );

    if (flags.values.imds === true && !listen.loopback) {
      fail("ConflictingSettings", "--imds needs a loopback --listen: IMDS has no client authentication");
    }
    const imds = listen.loopback && flags.values.imds !== false;
    const stop = listenForStop();
    const server = await stop.starting(startCredentialServer({
      settings,
      environment: { env, now: () => new Date(), debug },
      listen,
      tls,
      token,
      imds,
      log,
    }));
    stop.onHangup(() => void server.keeper.refresh("SIGHUP"));
    const base = `${tls ? "https" : "http"}://${clientHost(listen)}:${server.port}`;
    const variables: [string, string][] = [
      ["AWS_CONTAINER_CREDENTIALS_FULL_URI", `${base}${CONTAINER_PATH}`],
      ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenPath],
      ...(imds ? [["AWS_EC2_METADATA_SERVICE_ENDPOINT", `${base}/`] as [string, string]] : []),
    ];
    const { first, certificate } = server;
    log(
      `serving role ${settings.roleArn.text} on ${base} (${CONTAINER_PATH}${
        imds ? ", IMDSv2" : listen.loopback ? "; IMDS off (--no-imds)" : "; IMDS off: not a loopback listener"
      }, /healthz${tls ? "; HTTPS" : ""}): access key ${first.credentials.accessKeyId}, ` +
        `expires ${metadataTime(first.plan.expiresAt)}, certificate serial ${certificate.serial}, ` +
        `next refresh ${metadataTime(first.plan.refreshAt)}`,
    );
    const envFile = values["env-file"];
    if (envFile) {
      await replaceFile(envFile, variables.map(([name, value]) => `${name}=${value}\n`).join(""), {
        mode: 0o644,
        what: "--env-file",
      });
    }
    if (created) log(`created the authorization token file ${tokenPath} (0440)`);
    writeStdout(variables.map(([name, value]) => `export ${name}=${shellQuote(value)}\n`).join(""));
    // Last, as the emulator does: once it exists, the export lines on stdout are complete.
    const readyFile = values["ready-file"];
    if (readyFile) await replaceFile(readyFile, `${base}\n`, { mode: 0o644, what: "--ready-file" });
    const signal = await stop.stopped;
    stop.dispose();
    await server.close();
    if (readyFile) await Deno.remove(readyFile).catch(() => {});
    log(`stopped on ${signal}`);
    return 0;
  },
};
