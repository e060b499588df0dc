/** `certrole emulator`: a local AWS (IAM, IAM Roles Anywhere, S3, EC2, STS) for the walkthrough and tests. */
import { isRegionName } from "../aws_partitions.ts";
import { replaceFile } from "../atomic_write.ts";
import type { Command } from "../command.ts";
import { writeStderr, writeStdout } from "../command.ts";
import { startEmulator } from "../emulator/server.ts";
import { THROTTLE_SCOPES, type ThrottleScope } from "../emulator/throttle.ts";
import { jsonLinesLogger } from "../emulator/session_log.ts";
import { fail, messageOf } from "../errors.ts";
import { usageError } from "../flags.ts";
import { shellQuote } from "../shell_quote.ts";
import { VERSION } from "../version.ts";

export const DEFAULT_PORT = 4599;

export const command: Command = {
  name: "emulator",
  summary: "run a local AWS (IAM, Roles Anywhere, S3, EC2, STS) that checks signatures and policies",
  usage: "certrole emulator [--host 127.0.0.1] [--port N] [--state DIR] [--tls [--ca-bundle FILE]] [--ready-file F]\n" +
    "       [--session-log F] [--latency MS] [--throttle TPS [--throttle-scope account]] [--credential-lifetime SECONDS]",
  description: `
One HTTP endpoint that speaks the AWS wire formats the AWS CLI, boto3 and the AWS SDKs use:
IAM roles and inline policies (Query/XML), the IAM Roles Anywhere control plane (trust
anchors, profiles) and CreateSession (SigV4-X509), S3 ListBuckets/CreateBucket, EC2
DescribeInstances and STS GetCallerIdentity. Every request's signature is verified and every
call is authorised by IAM policy evaluation: temporary credentials from CreateSession get
exactly what the role's inline policies (and the profile's session policy) allow.

The control plane takes administrator credentials. Give them with
CERTROLE_EMULATOR_ACCESS_KEY_ID and CERTROLE_EMULATOR_SECRET_ACCESS_KEY, or let the emulator
generate a pair. When ready it prints shell lines to eval (endpoint, admin key id, the secret
only when it generated it, the CA bundle with --tls) and writes the endpoint to --ready-file.

State lives in memory unless --state DIR is given: then it is saved atomically after each
change (0600 files in a 0700 directory) and reloaded at start, with the generated admin key and
TLS certificates, so a walkthrough can span processes. SIGINT or SIGTERM stops it cleanly.

Limits, each refusal an AWS-shaped error: headers up to 32 KiB, complete within 10 s; bodies
up to 1 MiB (chunked too); idle connections closed after 60 s; at most 512 connections.

For tests, --session-log FILE records every CreateSession: the certificate it was asked for
(decimal serial, SHA-256 fingerprint), "issued" or the error code, the ARNs, never a secret.
--latency MS delays every answer, to measure clients over a simulated wide-area round trip.
--throttle TPS answers CreateSession with ThrottlingException (HTTP 429, Roles Anywhere's
JSON error) beyond TPS calls a second per certificate, or for the whole account with
--throttle-scope account (AWS's quota: 10 a second by default, per account and Region). --credential-lifetime SECONDS makes issued credentials expire
sooner than the requested duration, to test refreshing.`,
  flags: {
    host: { type: "string", value: "HOST", default: "127.0.0.1", description: "address to listen on" },
    port: { type: "string", value: "N", default: String(DEFAULT_PORT), description: "port; 0 picks a free one" },
    state: { type: "string", value: "DIR", env: "CERTROLE_EMULATOR_STATE", description: "persist state here" },
    tls: { type: "boolean", description: "serve HTTPS with a certificate from a CA the emulator makes" },
    "ca-bundle": {
      type: "string",
      value: "FILE",
      description:
        "with --tls: write the CA certificate here, for AWS_CA_BUNDLE (default: in --state DIR, else a temp file)",
    },
    "ready-file": { type: "string", value: "FILE", description: "write the endpoint URL here once listening" },
    latency: {
      type: "string",
      value: "MS",
      description: "wait this many milliseconds before every answer (a simulated wide-area round trip)",
    },
    throttle: {
      type: "string",
      value: "TPS",
      description: "CreateSession calls a second per certificate; more get ThrottlingException (HTTP 429)",
    },
    "throttle-scope": {
      type: "string",
      value: "SCOPE",
      default: "certificate",
      description: "what --throttle counts: each certificate's calls, or the whole account's (AWS's quota)",
    },
    "credential-lifetime": {
      type: "string",
      value: "SECONDS",
      description: "issued credentials expire after this many seconds when that is sooner than requested",
    },
    "session-log": {
      type: "string",
      value: "FILE",
      description:
        "append a JSON line per CreateSession here: the certificate (serial, SHA-256 fingerprint), the outcome, the ARNs",
    },
    region: { type: "string", value: "REGION", default: "us-east-1", description: "the emulated region" },
    "account-id": { type: "string", value: "ID", default: "123456789012", description: "the emulated account" },
    "access-key-id": {
      type: "string",
      value: "AKIA...",
      env: "CERTROLE_EMULATOR_ACCESS_KEY_ID",
      description: "administrator access key id",
    },
    "secret-access-key": {
      type: "string",
      value: "SECRET",
      env: "CERTROLE_EMULATOR_SECRET_ACCESS_KEY",
      description: "administrator secret key (prefer the environment: argv is visible to other users)",
    },
  },
  examples: [
    "certrole emulator --port 0 --ready-file /tmp/endpoint > /tmp/emulator.env &",
    "certrole emulator --tls --ca-bundle ca.pem --state .emulator",
    "certrole emulator --latency 80 --throttle 10 --credential-lifetime 60",
    "certrole emulator --session-log sessions.jsonl   # then: jq -r .certificate.fingerprintSha256 sessions.jsonl",
    "CERTROLE_EMULATOR_ACCESS_KEY_ID=AKIAEXAMPLE CERTROLE_EMULATOR_SECRET_ACCESS_KEY=secret certrole emulator",
  ],
  async run(flags) {
    const values = flags.values as Record<string, string | boolean | undefined>;
    const host = (values.host as string | undefined) ?? "127.0.0.1";
    const portText = (values.port as string | undefined) ?? String(DEFAULT_PORT);
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65535) throw usageError(`--port must be 0 to 65535, not "${portText}"`);
    const region = values.region as string | undefined;
    if (region !== undefined && !isRegionName(region)) {
      throw usageError(`--region "${region}" is not a region name like us-east-1`);
    }
    const accountId = values["account-id"] as string | undefined;
    if (accountId !== undefined && !/^\d{12}$/.test(accountId)) {
      throw usageError(`--account-id must be 12 digits, not "${accountId}"`);
    }
    const accessKeyId = values["access-key-id"] as string | undefined;
    const secretAccessKey = values["secret-access-key"] as string | undefined;
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw usageError(
        "give both the administrator access key id and secret (CERTROLE_EMULATOR_ACCESS_KEY_ID and CERTROLE_EMULATOR_SECRET_ACCESS_KEY) or neither",
      );
    }
    if (accessKeyId !== undefined && !/^[A-Z0-9]{16,128}$/.test(accessKeyId)) {
      throw usageError(
        `the administrator access key id must be 16-128 of A-Z 0-9 (like AKIA...), not "${accessKeyId}"`,
      );
    }
    const latencyMs = integerFlag(values.latency, "--latency", 0, 60_000, "milliseconds");
    const throttleText = values.throttle as string | undefined;
    const throttleTps = throttleText === undefined ? undefined : Number(throttleText);
    if (
      throttleText !== undefined &&
      (!/^\d+(\.\d+)?$/.test(throttleText) || !(throttleTps! > 0) || throttleTps! > 1_000_000)
    ) {
      throw usageError(
        `--throttle must be a number of calls a second above 0 (0.1 is one every 10 s), not "${throttleText}"`,
      );
    }
    const throttleScope = (values["throttle-scope"] as string | undefined) ?? "certificate";
    if (!THROTTLE_SCOPES.includes(throttleScope as ThrottleScope)) {
      throw usageError(`--throttle-scope must be ${THROTTLE_SCOPES.join(" or ")}, not "${throttleScope}"`);
    }
    if (values["throttle-scope"] !== undefined && throttleTps === undefined) {
      throw usageError("--throttle-scope needs --throttle TPS");
    }
    const credentialLifetimeSeconds = integerFlag(
      values["credential-lifetime"],
      "--credential-lifetime",
      1,
      43_200,
      "seconds",
    );
    const stateDir = values.state as string | undefined;
    if (values["ca-bundle"] !== undefined && !values.tls) throw usageError("--ca-bundle needs --tls");

    let tls: { cert: string; key: string } | undefined;
    let caBundle: string | undefined;
    if (values.tls) {
      const tlsModule = await import("../emulator/tls_certificate.ts");
      const now = new Date();
      let material = stateDir ? await tlsModule.loadTlsMaterial(stateDir) : undefined;
      if (!material || !tlsModule.stillUsable(material, host, now)) {
        material = await tlsModule.makeTlsMaterial(host, now);
        if (stateDir) await tlsModule.saveTlsMaterial(stateDir, material);
      }
      caBundle = absolute(
        (values["ca-bundle"] as string | undefined) ??
          (stateDir
            ? `${stateDir}/tls-ca-cert.pem`
            : await Deno.makeTempFile({ prefix: "certrole-emulator-ca-", suffix: ".pem" })),
      );
      await replaceFile(caBundle, material.caPem, { mode: 0o644, what: "--ca-bundle" });
      tls = { cert: material.chainPem, key: material.keyPem };
    }

    const sessionLogPath = values["session-log"] as string | undefined;
    let sessionLog: Awaited<ReturnType<typeof jsonLinesLogger>> | undefined;
    if (sessionLogPath !== undefined) {
      try {
        sessionLog = await jsonLinesLogger(sessionLogPath);
      } catch (error) {
        fail(
          "CannotWrite",
          `--session-log "${sessionLogPath}" cannot be opened (${messageOf(error)}): pick a writable path`,
        );
      }
    }

    let emulator;
    try {
      emulator = await startEmulator({
        hostname: host,
        port,
        region,
        accountId,
        stateDir,
        tls,
        admin: accessKeyId !== undefined ? { accessKeyId, secretAccessKey: secretAccessKey! } : undefined,
        onSession: sessionLog?.log,
        latencyMs,
        throttleTps,
        throttleScope: throttleScope as ThrottleScope,
        credentialLifetimeSeconds,
      });
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        fail("AddressInUse", `${host}:${port} is already in use: pick another --port (0 picks a free one)`);
      }
      fail("ListenFailed", `the emulator cannot start: ${messageOf(error)}`);
    }
    const { state, admin, url } = emulator;
    const lines = [
      `# certrole ${VERSION} emulator: IAM, IAM Roles Anywhere, S3, EC2, STS on ${url} (region ${state.region}, account ${state.accountId})`,
      `export AWS_ENDPOINT_URL=${shellQuote(url)}`,
      `export AWS_ACCESS_KEY_ID=${shellQuote(admin.accessKeyId)}`,
      admin.generated
        ? `export AWS_SECRET_ACCESS_KEY=${shellQuote(admin.secretAccessKey)}`
        : "# AWS_SECRET_ACCESS_KEY: the one you gave in CERTROLE_EMULATOR_SECRET_ACCESS_KEY",
      `export AWS_DEFAULT_REGION=${shellQuote(state.region)}`,
      ...(caBundle ? [`export AWS_CA_BUNDLE=${shellQuote(caBundle)}`] : []),
    ];
    writeStdout(lines.join("\n") + "\n");
    // Stoppable before the ready file says so: a script may signal the moment it appears.
    const { promise: stopped, resolve: stop } = Promise.withResolvers<Deno.Signal>();
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const listeners = signals.map((signal) => [signal, () => stop(signal)] as const);
    for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
    const readyFile = values["ready-file"] as string | undefined;
    if (readyFile) await replaceFile(readyFile, `${url}\n`, { mode: 0o644, what: "--ready-file" });
    const signal = await stopped;
    for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
    await emulator.close();
    await sessionLog?.close();
    if (readyFile) await Deno.remove(readyFile).catch(() => {});
    writeStderr(`certrole emulator: stopped on ${signal}${stateDir ? `, state saved in ${stateDir}` : ""}\n`);
    return 0;
  },
};

/** A whole-number flag within bounds, or a usage error naming it. */
function integerFlag(value: unknown, flag: string, min: number, max: number, unit: string): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  const number = Number(text);
  if (!/^\d+$/.test(text) || number < min || number > max) {
    throw usageError(`${flag} must be ${min} to ${max} ${unit}, not "${text}"`);
  }
  return number;
}

/** AWS_CA_BUNDLE must hold wherever the printed line is used, so it is absolute. */
function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}
