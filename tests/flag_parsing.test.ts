/**
 * Flag parsing (cli/flags.ts), in-process: `--name value` and `--name=value`, booleans with
 * `--no-` and `=false`, repeatable lists, short aliases, `--` and stopping at the first
 * positional, environment fallbacks (flags win, lists split on commas, booleans parsed), and
 * one-line usage errors (exit code 2) for unknown flags, flags named like Object properties,
 * missing values and a flag given twice; the help table's layout.
 */
import assert from "node:assert/strict";
import { CertroleError } from "../cli/errors.ts";
import { type FlagSpecs, formatFlags, parseFlags } from "../cli/flags.ts";

const SPECS: FlagSpecs = {
  region: { type: "string", env: "ROLESANYWHERE_REGION", description: "region", value: "REGION" },
  debug: { type: "boolean", env: "CERTROLE_DEBUG", description: "debug", short: "d" },
  tag: { type: "list", env: "CERTROLE_TAGS", description: "tags" },
  help: { type: "boolean", description: "show this help", short: "h" },
};

const noEnv = () => undefined;

function usageError(run: () => unknown, message: string) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof CertroleError, String(error));
    assert.equal(error.exitCode, 2);
    assert.equal(error.message, message);
    return true;
  });
}

Deno.test("values: --name value, --name=value (with = and spaces inside), booleans, lists, short aliases", () => {
  const parsed = parseFlags(
    ["--region", "eu-west-1", "--tag=a=b c", "--tag", "x", "-d", "positional", "--no-help"],
    SPECS,
    noEnv,
  );
  assert.deepEqual({ ...parsed.values }, { region: "eu-west-1", tag: ["a=b c", "x"], debug: true, help: false });
  assert.deepEqual(parsed.positionals, ["positional"]);
  assert.deepEqual({ ...parsed.sources }, { region: "--region", tag: "--tag", debug: "--debug", help: "--help" });
  for (const [text, value] of [["true", true], ["yes", true], ["0", false], ["off", false], ["", false]] as const) {
    assert.equal(parseFlags([`--debug=${text}`], SPECS, noEnv).values.debug, value, text);
    assert.equal(parseFlags([`--no-debug=${text}`], SPECS, noEnv).values.debug, !value, `--no-debug=${text}`);
  }
  // A value that looks like a flag is still the value of the flag before it.
  assert.equal(parseFlags(["--region", "--debug"], SPECS, noEnv).values.region, "--debug");
  assert.deepEqual(parseFlags(["-", "--"], SPECS, noEnv).positionals, ["-"]);
});

Deno.test("-- and stopAtPositional leave the rest unparsed", () => {
  assert.deepEqual(parseFlags(["--debug", "--", "--region", "x"], SPECS, noEnv).positionals, ["--region", "x"]);
  const wrapped = parseFlags(["-d", "aws", "s3", "ls", "--region", "x"], SPECS, noEnv, { stopAtPositional: true });
  assert.deepEqual(wrapped.positionals, ["aws", "s3", "ls", "--region", "x"]);
  assert.equal(wrapped.values.region, undefined);
  // Without it, flags after a positional are parsed as certrole's own.
  assert.equal(parseFlags(["aws", "--region", "x"], SPECS, noEnv).values.region, "x");
});

Deno.test("the environment fills what the flags left out; flags win; empty variables count as unset", () => {
  const env: Record<string, string> = {
    ROLESANYWHERE_REGION: "us-east-2",
    CERTROLE_DEBUG: "yes",
    CERTROLE_TAGS: " a, b ,,c ",
  };
  const fromEnv = parseFlags([], SPECS, (name) => env[name]);
  assert.deepEqual({ ...fromEnv.values }, { region: "us-east-2", debug: true, tag: ["a", "b", "c"] });
  assert.deepEqual({ ...fromEnv.sources }, {
    region: "ROLESANYWHERE_REGION",
    debug: "CERTROLE_DEBUG",
    tag: "CERTROLE_TAGS",
  });
  const flagsWin = parseFlags(["--region", "eu-west-1", "--no-debug"], SPECS, (name) => env[name]);
  assert.equal(flagsWin.values.region, "eu-west-1");
  assert.equal(flagsWin.values.debug, false);
  assert.equal(flagsWin.sources.region, "--region");
  assert.equal(parseFlags([], SPECS, () => "").values.region, undefined);
  usageError(
    () => parseFlags([], SPECS, (name) => name === "CERTROLE_DEBUG" ? "maybe" : undefined),
    'CERTROLE_DEBUG must be true or false, not "maybe"',
  );
});

Deno.test("usage errors: unknown, Object-property names, missing value, given twice, bad boolean", () => {
  const options = { command: "version" };
  usageError(
    () => parseFlags(["--cert", "x"], SPECS, noEnv, options),
    "unknown flag --cert for `certrole version`: see --help",
  );
  usageError(() => parseFlags(["--cert=x"], SPECS, noEnv), "unknown flag --cert: see --help");
  usageError(() => parseFlags(["-x"], SPECS, noEnv), "unknown flag -x: see --help");
  for (
    const name of ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf", "no-toString", "no-region"]
  ) {
    usageError(
      () => parseFlags([`--${name}`, "x"], SPECS, noEnv, options),
      `unknown flag --${name} for \`certrole version\`: see --help`,
    );
  }
  usageError(() => parseFlags(["--region"], SPECS, noEnv, options), "--region needs a value for `certrole version`");
  usageError(() => parseFlags(["--region", "a", "--region=b"], SPECS, noEnv), "--region is given twice: keep one");
  usageError(() => parseFlags(["--debug=2"], SPECS, noEnv), '--debug must be true or false, not "2"');
  // The same flag from the environment and argv is not "twice": the flag wins.
  assert.equal(
    parseFlags(["--region", "b"], SPECS, (name) => name === "ROLESANYWHERE_REGION" ? "a" : undefined).values.region,
    "b",
  );
  // No prototype behind the values: a parsed result has no inherited names.
  assert.equal(Object.getPrototypeOf(parseFlags([], SPECS, noEnv).values), null);
});

Deno.test("the help table: aliases, placeholders, environment, defaults, repeatable; hidden flags left out", () => {
  const table = formatFlags({
    ...SPECS,
    secret: { type: "string", description: "not shown", hidden: true },
    timeout: { type: "string", description: "seconds", default: "5" },
  });
  assert.equal(
    table,
    [
      "  --region REGION  region (env ROLESANYWHERE_REGION)",
      "  -d, --debug      debug (env CERTROLE_DEBUG)",
      "  --tag VALUE      tags (env CERTROLE_TAGS; repeatable)",
      "  -h, --help       show this help",
      "  --timeout VALUE  seconds (default 5)",
    ].join("\n"),
  );
  // A flag that leaves no two spaces before the column (34) gets its description on the next line.
  const wrapped = formatFlags({
    "flag-name-one-short-of-column": { type: "string", description: "d", value: "X" },
  });
  assert.equal(wrapped, `  --flag-name-one-short-of-column X\n${" ".repeat(36)}d`);
});
