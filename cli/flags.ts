/**
 * Command-line flags with environment-variable fallbacks: `--name value`, `--name=value`,
 * boolean `--name` / `--no-name`, repeatable list flags, and `--` to end flag parsing.
 * Flags win over the environment. Usage errors are one-line CertroleErrors with exit code 2.
 *
 * @example
 * ```ts
 * const flags = parseFlags(["--region", "eu-west-1"], { region: { type: "string", env: "ROLESANYWHERE_REGION", description: "" } }, Deno.env.get);
 * flags.values.region; // "eu-west-1"
 * ```
 */
import { CertroleError } from "./errors.ts";

export interface FlagSpec {
  readonly type: "string" | "boolean" | "list";
  readonly description: string;
  /** Environment variable read when the flag is absent. */
  readonly env?: string;
  /** Shown in help; applied by the caller (so "was it set?" stays answerable). */
  readonly default?: string;
  /** Placeholder in help, e.g. FILE. */
  readonly value?: string;
  /** One-letter alias, e.g. "h". */
  readonly short?: string;
  /** Parsed but left out of --help (flags accepted only to say what to use instead). */
  readonly hidden?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export type FlagValue = string | boolean | string[] | undefined;

export interface ParsedFlags {
  readonly values: Readonly<Record<string, FlagValue>>;
  /** Where each value came from: "--name" or the environment variable. */
  readonly sources: Readonly<Record<string, string>>;
  readonly positionals: readonly string[];
}

export function usageError(message: string): CertroleError {
  return new CertroleError("UsageError", message);
}

export function parseBoolean(text: string, what: string): boolean {
  const value = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off", ""].includes(value)) return false;
  throw usageError(`${what} must be true or false, not "${text}"`);
}

/**
 * Parses argv against the specs. With `stopAtPositional`, the first positional and everything
 * after it are left unparsed (for `certrole exec COMMAND --its-own-flags`).
 */
export function parseFlags(
  argv: readonly string[],
  specs: FlagSpecs,
  env: (name: string) => string | undefined,
  options: { command?: string; stopAtPositional?: boolean } = {},
): ParsedFlags {
  // No prototype: a flag named like an Object property (--toString, --__proto__) is just unknown.
  const values: Record<string, FlagValue> = Object.create(null);
  const sources: Record<string, string> = Object.create(null);
  const positionals: string[] = [];
  const where = options.command ? ` for \`certrole ${options.command}\`` : "";
  const specFor = (name: string): FlagSpec | undefined => Object.hasOwn(specs, name) ? specs[name] : undefined;
  const byShort = new Map(
    Object.entries(specs).filter(([, spec]) => spec.short).map(([name, spec]) => [spec.short!, name]),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (options.stopAtPositional) {
        positionals.push(...argv.slice(i));
        break;
      }
      positionals.push(arg);
      continue;
    }
    const match = arg.match(/^--([^=]+)(?:=(.*))?$/s) ?? arg.match(/^-([A-Za-z])$/);
    let name = match?.[1] ?? "";
    if (name.length === 1 && byShort.has(name)) name = byShort.get(name)!;
    let inline = match?.[2];
    let spec = specFor(name);
    let negated = false;
    if (!spec && name.startsWith("no-") && specFor(name.slice(3))?.type === "boolean") {
      spec = specFor(name.slice(3));
      name = name.slice(3);
      negated = true;
    }
    if (!spec) throw usageError(`unknown flag ${arg.split("=")[0]}${where}: see --help`);
    if (spec.type === "boolean") {
      values[name] = inline === undefined ? !negated : parseBoolean(inline, `--${name}`) !== negated;
    } else {
      if (inline === undefined) {
        if (i + 1 >= argv.length) throw usageError(`--${name} needs a value${where}`);
        inline = argv[++i];
      }
      if (spec.type === "list") {
        values[name] = [...((values[name] as string[] | undefined) ?? []), inline];
      } else {
        if (values[name] !== undefined && sources[name] === `--${name}`) {
          throw usageError(`--${name} is given twice${where}: keep one`);
        }
        values[name] = inline;
      }
    }
    sources[name] = `--${name}`;
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (values[name] !== undefined || !spec.env) continue;
    const fromEnv = env(spec.env);
    if (fromEnv === undefined || fromEnv === "") continue;
    values[name] = spec.type === "boolean"
      ? parseBoolean(fromEnv, spec.env)
      : spec.type === "list"
      ? fromEnv.split(",").map((item) => item.trim()).filter(Boolean)
      : fromEnv;
    sources[name] = spec.env;
  }
  return { values, sources, positionals };
}

/** The flag table of a help page. */
export function formatFlags(specs: FlagSpecs): string {
  const rows = Object.entries(specs).filter(([, spec]) => !spec.hidden).map(([name, spec]) => {
    const left = `${spec.short ? `-${spec.short}, ` : ""}--${name}${
      spec.type === "boolean" ? "" : ` ${spec.value ?? "VALUE"}`
    }`;
    const extras = [
      spec.env ? `env ${spec.env}` : "",
      spec.default !== undefined ? `default ${spec.default}` : "",
      spec.type === "list" ? "repeatable" : "",
    ].filter(Boolean).join("; ");
    return [left, spec.description + (extras ? ` (${extras})` : "")];
  });
  const width = Math.min(34, Math.max(...rows.map(([left]) => left.length)) + 2);
  return rows
    .map(([left, right]) =>
      left.length + 2 > width ? `  ${left}\n  ${" ".repeat(width)}${right}` : `  ${left.padEnd(width)}${right}`
    )
    .join("\n");
}
