/**
 * What a certrole command is: its name, help (usage, description, flags, worked examples) and a
 * thin `run` that calls library code. cli/main.ts holds the table of them.
 */
import { type FlagSpecs, formatFlags, type ParsedFlags } from "./flags.ts";

export interface Command {
  /** One or two words: "credential-process", "pki issue". */
  readonly name: string;
  readonly summary: string;
  /** e.g. "certrole exec [flags] [--] COMMAND [ARGS...]" */
  readonly usage: string;
  readonly description: string;
  readonly flags: FlagSpecs;
  readonly examples: readonly string[];
  /** Leave everything from the first positional on unparsed (exec's wrapped command). */
  readonly stopAtPositional?: boolean;
  /** Returns the exit code. Throws CertroleError for user errors. */
  run(flags: ParsedFlags): Promise<number>;
}

export function helpText(command: Command): string {
  return [
    `certrole ${command.name}: ${command.summary}`,
    "",
    `Usage: ${command.usage}`,
    "",
    command.description.trim(),
    "",
    "Flags:",
    formatFlags({ ...command.flags, help: { type: "boolean", description: "show this help", short: "h" } }),
    ...(command.examples.length ? ["", "Examples:", ...command.examples.map((example) => `  ${example}`)] : []),
    "",
  ].join("\n");
}

const encoder = new TextEncoder();

/** Writes all of `text` to stdout synchronously (credential_process output must be complete). */
export function writeStdout(text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
}

export function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stderr.writeSync(bytes.subarray(offset));
}
