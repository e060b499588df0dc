/**
 * certrole: short-lived AWS credentials from an X.509 certificate with IAM Roles Anywhere.
 * This file is the table of commands; each command's module loads only when it runs, so
 * `credential-process` never pays for the PKI or emulator code.
 */
import { type Command, helpText, writeStderr, writeStdout } from "./command.ts";
import { CertroleError, ERROR_CODES, INTERNAL_ERROR_EXIT, messageOf } from "./errors.ts";
import { parseFlags } from "./flags.ts";
import { readEnv } from "./process/environment.ts";
import { guardRuntime } from "./process/runtime_guard.ts";
import { VERSION } from "./version.ts";

export interface Entry {
  readonly name: string;
  readonly summary: string;
  /** Listed apart in --help: commands that work on certrole's source tree, not on credentials. */
  readonly sourceTree?: true;
  readonly load: () => Promise<{ command: Command }>;
}

export const COMMANDS: readonly Entry[] = [
  {
    name: "credential-process",
    summary: "print temporary credentials as credential_process JSON (drop-in for AWS's signing helper)",
    load: () => import("./commands/credential_process.ts"),
  },
  {
    name: "exec",
    summary: "run a command (the container's entrypoint) with an AWS profile backed by the certificate",
    load: () => import("./commands/exec.ts"),
  },
  {
    name: "serve",
    summary:
      "serve credentials to SDKs and the AWS CLI (container endpoint, IMDSv2, /healthz), refreshed in the background",
    load: () => import("./commands/serve.ts"),
  },
  {
    name: "update",
    summary: "write credentials into the shared credentials file (~/.aws/credentials), once or kept fresh",
    load: () => import("./commands/update.ts"),
  },
  {
    name: "read-certificate-data",
    summary: "print a certificate's key type, serial and base64 DER as JSON",
    load: () => import("./commands/read_certificate_data.ts"),
  },
  {
    name: "pki init-ca",
    summary: "create a private CA key and certificate that Roles Anywhere accepts as a trust anchor",
    load: () => import("./commands/pki_init_ca.ts"),
  },
  {
    name: "pki issue",
    summary: "issue a key and certificate for Roles Anywhere, signed by your CA",
    load: () => import("./commands/pki_issue.ts"),
  },
  {
    name: "pki check",
    summary: "check a CA, certificate and key against Roles Anywhere's requirements",
    load: () => import("./commands/pki_check.ts"),
  },
  {
    name: "iam trust-policy",
    summary: "print a role trust policy for Roles Anywhere, conditioned on the certificate",
    load: () => import("./commands/iam_trust_policy.ts"),
  },
  {
    name: "iam policy",
    summary: "print a least-privilege permissions policy for the role",
    load: () => import("./commands/iam_policy.ts"),
  },
  {
    name: "iam setup",
    summary: "create (or converge) the role, inline policy, trust anchor and profile for certificate credentials",
    load: () => import("./commands/iam_setup.ts"),
  },
  {
    name: "iam cleanup",
    summary: "delete the profile, trust anchor, inline policies and role that iam setup made",
    load: () => import("./commands/iam_cleanup.ts"),
  },
  {
    name: "emulator",
    summary: "run a local AWS (IAM, Roles Anywhere, S3, EC2, STS) that checks signatures and policies",
    load: () => import("./commands/emulator.ts"),
  },
  {
    name: "image dockerfile",
    summary: "for your own base image: print a multi-stage Dockerfile that adds certrole's entrypoint to it",
    sourceTree: true,
    load: () => import("./commands/image_dockerfile.ts"),
  },
  {
    name: "image render",
    summary: "for certrole's maintainers: re-render this repository's images/<variant>/Dockerfile (--check: CI's)",
    sourceTree: true,
    load: () => import("./commands/image_render.ts"),
  },
  {
    name: "version",
    summary: "print certrole's version",
    load: () => import("./commands/version.ts"),
  },
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((entry) => entry.name.length)) + 2;
  const line = (entry: Entry) => `  ${entry.name.padEnd(width)}${entry.summary}`;
  return [
    `certrole ${VERSION}: short-lived AWS credentials from an X.509 certificate (IAM Roles Anywhere)`,
    "",
    "Usage: certrole COMMAND [flags]",
    "",
    "Commands:",
    ...COMMANDS.filter((entry) => !entry.sourceTree).map(line),
    "",
    "Images (run in certrole's source tree, which is also the build context):",
    ...COMMANDS.filter((entry) => entry.sourceTree).map(line),
    "",
    "Run `certrole COMMAND --help` for a command's flags and examples.",
    "",
    "Errors are one line on stderr (certrole: …) naming the thing and the fix. Exit status:",
    "  0    success",
    "  1    it cannot be done: a file, the machine's proxy or trust store, the network, AWS's answer",
    "  2    the command line or a setting is wrong: unknown flag, missing or malformed value, a contradiction",
    "  126  exec: its command cannot run",
    "  127  exec: its command is not found (otherwise exec exits with its command's own status)",
    "  130  interrupted at a passphrase prompt",
    `  ${INTERNAL_ERROR_EXIT}   internal error: a bug, please report it`,
    "Every error code with its exit status: DEVELOPERS.md (Errors and exit codes) in certrole's source.",
    "",
  ].join("\n");
}

/** The entry whose words start argv, longest first ("pki issue" before "pki"). */
function findCommand(argv: readonly string[]): { entry: Entry; rest: string[] } | undefined {
  const candidates = [...COMMANDS].sort((a, b) => b.name.split(" ").length - a.name.split(" ").length);
  for (const entry of candidates) {
    const words = entry.name.split(" ");
    if (words.every((word, index) => argv[index] === word)) return { entry, rest: argv.slice(words.length) };
  }
  return undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help" && argv.length === 1) {
    writeStdout(overview());
    return first === undefined ? 2 : 0;
  }
  if (first === "--version") {
    writeStdout(`certrole ${VERSION}\n`);
    return 0;
  }
  const helpFor = first === "help";
  const found = findCommand(helpFor ? argv.slice(1) : argv);
  if (!found) {
    const group = COMMANDS.filter((entry) => entry.name.startsWith(`${first} `));
    const hint = group.length ? `; \`${first}\` has: ${group.map((entry) => entry.name.split(" ")[1]).join(", ")}` : "";
    throw new CertroleError(
      "UsageError",
      `unknown command "${argv.slice(0, 2).join(" ")}"${hint}: see certrole --help`,
    );
  }
  const { command } = await found.entry.load();
  if (helpFor) {
    writeStdout(helpText(command));
    return 0;
  }
  const specs = { ...command.flags, help: { type: "boolean", description: "show this help", short: "h" } } as const;
  const flags = parseFlags(found.rest, specs, readEnv, {
    command: command.name,
    stopAtPositional: command.stopAtPositional,
  });
  if (flags.values.help) {
    writeStdout(helpText(command));
    return 0;
  }
  guardRuntime(); // before the command reads any secret: no SIGUSR1 inspector, no core dumps
  return await command.run(flags);
}

/**
 * main() as the process runs it: a CertroleError is its one line and its exit code, anything else
 * an internal error (a bug) with its trace.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    if (error instanceof CertroleError) {
      writeStderr(`certrole: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof Deno.errors.NotCapable) {
      // A path the fixed permissions exclude (/dev/stdin, /proc/...): the user's input, said without Deno's advice.
      writeStderr(`certrole: ${messageOf(error)}\n`);
      return ERROR_CODES.FileUnreadable.exit;
    }
    writeStderr(`certrole: internal error, please report it: ${error instanceof Error ? error.stack : error}\n`);
    return INTERNAL_ERROR_EXIT;
  }
}

if (import.meta.main) Deno.exit(await runCli(Deno.args));
