/**
 * `make demo`: AWS's IAM Roles Anywhere walkthrough, whole, on this machine, with no AWS account.
 * certrole makes the CA and the container certificate (passphrase-protected keys) and checks
 * them, starts its emulator, sets up the role, trust anchor and profile, and then, with the
 * certificate's credentials only: lists the buckets, is refused ec2:DescribeInstances, and sees
 * a certificate with another CN refused. The AWS CLI does the AWS calls when it is installed
 * (through certrole exec and credential_process); otherwise certrole's own signed calls do.
 * (CERTROLE_DEMO_AWS_CLI=none forces the latter.) Exits 0 only when every expectation held.
 *
 *   deno run -A scripts/demo.ts [--key-type ml-dsa-65]     # make demo KEY_TYPE=ml-dsa-65
 *
 * --key-type (any `certrole pki` key type, default rsa-2048) is used for the CA and both certificates.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import $ from "dax-sh";
import { parseArgs } from "node:util";

const { values: options } = parseArgs({ options: { "key-type": { type: "string", default: "rsa-2048" } } });
const keyType = ["--key-type", options["key-type"]!];
const root = new URL("..", import.meta.url).pathname;
const work = Deno.env.get("CERTROLE_DEMO_DIR") ?? `${root}.scratch/demo`;
const started = performance.now();
let failures = 0;

function say(line: string): void {
  console.log(line);
}

/** Runs one expectation; a failure is reported and counted, and the demo goes on where it can. */
async function step(title: string, run: () => Promise<string | void>): Promise<boolean> {
  try {
    const detail = await run();
    say(`  ✓ ${title}${detail ? `\n      ${detail.replaceAll("\n", "\n      ")}` : ""}`);
    return true;
  } catch (error) {
    failures++;
    say(
      `  ✗ ${title}\n      ${
        (error instanceof Error ? error.message : String(error)).trim().replaceAll("\n", "\n      ")
      }`,
    );
    return false;
  }
}

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command in the demo folder with exactly `env` (plus PATH/HOME), never inheriting AWS settings. */
async function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  const output = await new Deno.Command(command, {
    args,
    cwd: work,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: `${work}/home`, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

function expectSuccess(result: Result, what: string): string {
  if (result.code !== 0) {
    throw new Error(`${what} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}

function expectRefusal(result: Result, code: RegExp): string {
  if (result.code === 0) throw new Error(`expected a refusal, but it succeeded:\n${result.stdout.trim()}`);
  const line = result.stderr.split("\n").find((candidate) => code.test(candidate));
  if (!line) throw new Error(`expected ${code}, got: ${result.stderr.trim()}`);
  return line.trim();
}

// ---- set up ----
await Deno.remove(work, { recursive: true }).catch(() => {});
await Deno.mkdir(`${work}/home`, { recursive: true });
await $`${Deno.execPath()} run --quiet --allow-all ${root}scripts/build.ts --out ${root}dist`.quiet();
const certrole = `${root}dist/certrole`;
// CERTROLE_DEMO_AWS_CLI=none shows the path machines without the AWS CLI take.
const awsCli = Deno.env.get("CERTROLE_DEMO_AWS_CLI") === "none"
  ? undefined
  : ["/usr/bin/aws", "aws"].find((candidate) => {
    try {
      const version = new Deno.Command(candidate, { args: ["--version"], stdout: "piped", stderr: "piped" })
        .outputSync();
      return version.success && /aws-cli\/2\./.test(new TextDecoder().decode(version.stdout));
    } catch {
      return false;
    }
  });
const secrets = {
  CERTROLE_CA_PASSPHRASE: crypto.randomUUID(),
  ROLESANYWHERE_KEY_PASSPHRASE: crypto.randomUUID(),
};
say(`certrole walkthrough in ${work}, keys ${options["key-type"]}`);
say(
  awsCli
    ? `AWS calls: the AWS CLI (${awsCli}) through certrole exec and credential_process`
    : "AWS calls: certrole's own signed requests (no AWS CLI v2 installed)",
);

say("\n1. Certificates (replaces the openssl steps and the manual check)");
await step(
  "certrole pki init-ca --cn myPrivateCA: CA key encrypted, CA certificate v3",
  async () =>
    expectSuccess(await run(certrole, ["pki", "init-ca", "--cn", "myPrivateCA", ...keyType], secrets), "pki init-ca")
      .trim().split("\n")[0],
);
await step(
  "certrole pki issue --cn myContainer: container key encrypted, certificate valid 1 day",
  async () =>
    expectSuccess(await run(certrole, ["pki", "issue", "--cn", "myContainer", ...keyType], secrets), "pki issue")
      .trim().split("\n")[0],
);
await step("certrole pki issue --cn someoneElse: a second certificate, for the refusal at the end", async () => {
  expectSuccess(
    await run(certrole, [
      "pki",
      "issue",
      "--cn",
      "someoneElse",
      "--cert-out",
      "other-cert.pem",
      "--key-out",
      "other-key.pem",
      ...keyType,
    ], secrets),
    "pki issue",
  );
});
await step("certrole pki check: every Roles Anywhere requirement holds", async () => {
  const report = expectSuccess(
    await run(certrole, ["pki", "check", "--ca", "ca-cert.pem", "--cert", "cert.pem", "--key", "key.pem"], secrets),
    "pki check",
  );
  return `${report.split("\n").filter((line) => line.includes("✓")).length} requirements ✓`;
});

say("\n2. A local AWS: certrole emulator");
const admin = {
  CERTROLE_EMULATOR_ACCESS_KEY_ID: `AKIADEMO${crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`,
  CERTROLE_EMULATOR_SECRET_ACCESS_KEY: crypto.randomUUID(),
};
const emulator = new Deno.Command(certrole, {
  args: ["emulator", "--port", "0", "--ready-file", `${work}/endpoint`],
  cwd: work,
  clearEnv: true,
  env: { PATH: Deno.env.get("PATH") ?? "", HOME: `${work}/home`, ...admin },
  stdout: "null",
  stderr: "piped",
}).spawn();
let endpoint = "";
const ready = await step("emulator listening on loopback", async () => {
  for (let i = 0; i < 200 && !endpoint; i++) {
    endpoint = await Deno.readTextFile(`${work}/endpoint`).then((text) => text.trim()).catch(() => "");
    if (!endpoint) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!endpoint) throw new Error("the emulator did not write its ready file");
  return endpoint;
});
const adminEnv = {
  AWS_ACCESS_KEY_ID: admin.CERTROLE_EMULATOR_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY: admin.CERTROLE_EMULATOR_SECRET_ACCESS_KEY,
  AWS_REGION: "us-east-1",
  AWS_DEFAULT_REGION: "us-east-1",
};

/** A SigV4-signed call with given credentials, for machines without the AWS CLI. */
async function signedCall(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  service: string,
  method: string,
  path: string,
  body = "",
): Promise<{ status: number; text: string }> {
  const url = new URL(path, endpoint);
  const headers: Record<string, string> = { host: url.host };
  if (body) headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
  const signer = new SignatureV4({
    service,
    region: "us-east-1",
    credentials,
    sha256: Sha256,
    uriEscapePath: service !== "s3",
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers,
    body,
    query: {},
  });
  const response = await fetch(url, {
    method,
    headers: signed.headers as Record<string, string>,
    body: body || undefined,
  });
  return { status: response.status, text: await response.text() };
}

function xmlValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((match) => match[1]);
}

if (ready) {
  say("\n3. IAM and Roles Anywhere (replaces create-role, put-role-policy, create-trust-anchor, create-profile)");
  await step("certrole iam setup --role-name bucket-lister --cn myContainer --allow s3:ListAllMyBuckets", async () => {
    const output = expectSuccess(
      await run(certrole, [
        "iam",
        "setup",
        "--role-name",
        "bucket-lister",
        "--cn",
        "myContainer",
        "--ca",
        "ca-cert.pem",
        "--allow",
        "s3:ListAllMyBuckets",
        "--endpoint-url",
        endpoint,
        "--env-file",
        "bucket-lister.env",
      ], adminEnv),
      "iam setup",
    );
    return output.trim().split("\n").filter((line) => /arn:aws:/.test(line)).join("\n");
  });
  const sessionEnv: Record<string, string> = {};
  for (const line of (await Deno.readTextFile(`${work}/bucket-lister.env`).catch(() => "")).split("\n")) {
    const match = line.match(/^(ROLESANYWHERE_[A-Z_]+)=(.*)$/);
    if (match) sessionEnv[match[1]] = match[2];
  }
  Object.assign(sessionEnv, {
    ROLESANYWHERE_CERT_LOCATION: `${work}/cert.pem`,
    ROLESANYWHERE_KEY_LOCATION: `${work}/key.pem`,
    ROLESANYWHERE_KEY_PASSPHRASE: secrets.ROLESANYWHERE_KEY_PASSPHRASE,
    ROLESANYWHERE_ENDPOINT: endpoint,
  });
  await step("two buckets created with the administrator's keys", async () => {
    for (const bucket of ["walkthrough-logs", "walkthrough-assets"]) {
      if (awsCli) {
        expectSuccess(
          await run(awsCli, ["s3", "mb", `s3://${bucket}`, "--endpoint-url", endpoint], adminEnv),
          "aws s3 mb",
        );
      } else {
        const response = await signedCall(
          { accessKeyId: adminEnv.AWS_ACCESS_KEY_ID, secretAccessKey: adminEnv.AWS_SECRET_ACCESS_KEY },
          "s3",
          "PUT",
          `/${bucket}`,
        );
        if (response.status !== 200) {
          throw new Error(`CreateBucket ${bucket}: HTTP ${response.status} ${response.text}`);
        }
      }
    }
  });

  /** Without the AWS CLI: a call signed with the credentials credential-process hands the container. */
  const asContainer = async (service: string, method: string, path: string, body = "") => {
    const credentials = JSON.parse(
      expectSuccess(await run(certrole, ["credential-process"], sessionEnv), "credential-process"),
    );
    return await signedCall(
      {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.SessionToken,
      },
      service,
      method,
      path,
      body,
    );
  };

  say("\n4. The container's view: certificate credentials only");
  await step("list the buckets (s3:ListAllMyBuckets is allowed)", async () => {
    if (awsCli) {
      const output = expectSuccess(
        await run(certrole, ["exec", "--", awsCli, "s3", "ls", "--endpoint-url", endpoint], sessionEnv),
        "certrole exec -- aws s3 ls",
      );
      if (!/walkthrough-logs/.test(output)) throw new Error(`bucket missing from:\n${output}`);
      return `certrole exec -- aws s3 ls\n${output.trim()}`;
    }
    const response = await asContainer("s3", "GET", "/");
    if (response.status !== 200) throw new Error(`ListBuckets: HTTP ${response.status} ${response.text}`);
    return `ListBuckets: ${xmlValues(response.text, "Name").join(", ")}`;
  });
  await step("ec2 describe-instances is refused with UnauthorizedOperation", async () => {
    if (awsCli) {
      return expectRefusal(
        await run(certrole, [
          "exec",
          "--",
          awsCli,
          "ec2",
          "describe-instances",
          "--region",
          "us-east-1",
          "--endpoint-url",
          endpoint,
        ], sessionEnv),
        /UnauthorizedOperation/,
      );
    }
    const response = await asContainer("ec2", "POST", "/", "Action=DescribeInstances&Version=2016-11-15");
    const code = xmlValues(response.text, "Code")[0];
    if (response.status !== 403 || code !== "UnauthorizedOperation") {
      throw new Error(`expected 403 UnauthorizedOperation, got ${response.status} ${code}`);
    }
    return `${code}: ${xmlValues(response.text, "Message")[0]}`;
  });
  await step("a certificate with CN=someoneElse is refused with AccessDeniedException", async () => {
    const other = {
      ...sessionEnv,
      ROLESANYWHERE_CERT_LOCATION: `${work}/other-cert.pem`,
      ROLESANYWHERE_KEY_LOCATION: `${work}/other-key.pem`,
    };
    const command = awsCli ? ["exec", "--", awsCli, "s3", "ls", "--endpoint-url", endpoint] : ["credential-process"];
    return expectRefusal(await run(certrole, command, other), /AccessDeniedException/);
  });

  say("\n5. Clean up");
  await step("certrole iam cleanup removes the profile, trust anchor, policy and role", async () => {
    expectSuccess(
      await run(certrole, [
        "iam",
        "cleanup",
        "--role-name",
        "bucket-lister",
        "--ca",
        "ca-cert.pem",
        "--endpoint-url",
        endpoint,
        "--env-file",
        "bucket-lister.env",
      ], adminEnv),
      "iam cleanup",
    );
  });
}
emulator.kill("SIGTERM");
const stopped = await emulator.status;
await step("emulator stopped cleanly", () => {
  if (stopped.code !== 0) throw new Error(`exit ${stopped.code}`);
  return Promise.resolve();
});
await emulator.stderr.cancel();

const seconds = ((performance.now() - started) / 1000).toFixed(1);
say(
  failures
    ? `\n✗ ${failures} expectation(s) failed (${seconds} s)`
    : `\n✓ the walkthrough works end to end (${seconds} s); files in ${work}`,
);
Deno.exit(failures ? 1 : 0);
