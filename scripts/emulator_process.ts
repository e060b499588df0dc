/**
 * `certrole emulator` as its own process for the scripts that load it (bench.ts,
 * fleet_simulation.ts), seeded through its API by `certrole iam setup --json`, as a user would.
 * It counts as started once it has printed its `export` lines and written its --ready-file (it
 * writes the file after printing them).
 */
import { parseExports } from "./export_lines.ts";

export interface EmulatorProcess {
  /** What its --ready-file holds: the URL it listens on. */
  readonly url: string;
  readonly pid: number;
  /** Its `export NAME=value` lines (AWS_ENDPOINT_URL, the admin keys, the region, AWS_CA_BUNDLE with --tls). */
  readonly exports: Readonly<Record<string, string>>;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
}

/** What `iam setup --json` prints that the scripts use. */
export interface RoleArns {
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
}

/**
 * Starts the emulator on a free port. `certrole` is how to run certrole (a program and its leading
 * arguments); `args` are the emulator's flags beyond --port and --ready-file; the emulator is
 * killed and an error thrown when it has not started within `readyWithinMs`.
 */
export async function spawnEmulator(options: {
  readonly certrole: readonly string[];
  readonly args?: readonly string[];
  /** Where the ready file goes (a fresh name in this directory). */
  readonly dir: string;
  readonly readyWithinMs: number;
}): Promise<EmulatorProcess> {
  const [program, ...leading] = options.certrole;
  const ready = `${options.dir}/emulator-ready-${crypto.randomUUID()}`;
  const child = new Deno.Command(program, {
    args: [...leading, "emulator", "--port", "0", "--ready-file", ready, ...options.args ?? []],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let printed = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) printed += chunk;
  })();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const readyFileExists = () => Deno.stat(ready).then(() => true, () => false);
  const deadline = Date.now() + options.readyWithinMs;
  while (!(printed.includes("AWS_DEFAULT_REGION") && await readyFileExists())) {
    if (exited) {
      await reading;
      throw new Error("the emulator exited before it was ready");
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await status;
      await reading;
      throw new Error(`the emulator did not start within ${options.readyWithinMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    url: (await Deno.readTextFile(ready)).trim(),
    pid: child.pid,
    exports: parseExports(printed),
    stop: async () => {
      child.kill("SIGTERM");
      await status;
      await reading;
    },
  };
}

/** `certrole iam setup FLAGS --json` against the emulator (its exports in the environment): the role's ARNs. */
export async function iamSetup(
  certrole: readonly string[],
  emulator: EmulatorProcess,
  flags: readonly string[],
): Promise<RoleArns> {
  const [program, ...leading] = certrole;
  const setup = await new Deno.Command(program, {
    args: [...leading, "iam", "setup", ...flags, "--json"],
    env: { ...emulator.exports },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!setup.success) throw new Error(`certrole iam setup failed: ${new TextDecoder().decode(setup.stderr).trim()}`);
  const { trustAnchorArn, profileArn, roleArn } = JSON.parse(new TextDecoder().decode(setup.stdout));
  return { trustAnchorArn, profileArn, roleArn };
}
