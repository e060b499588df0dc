/**
 * certrole in hostile environments finds no internal error: every command, with garbage in each
 * variable it reads (flag specs and recorded reads), without HOME, with HOME=/nonexistent, with an
 * unwritable cache and on a read-only filesystem, exits with a code from ERROR_CODES, one line on
 * stderr, no stack trace and no secret echoed (support/hostile_environment_runs.ts has the runs).
 *
 * They run in a `deno test` process of their own: most of them call certrole's main() in-process
 * and swap the environment, the working directory and (through the runtime guard) signal
 * dispositions for each run, all of which `deno test --parallel`'s other test files would share.
 */
import assert from "node:assert/strict";
import { baseEnv } from "./support/run.ts";

const CHILD = "CERTROLE_HOSTILE_ENVIRONMENT_RUNS";

if (Deno.env.get(CHILD) === "1") {
  await import("./support/hostile_environment_runs.ts");
} else {
  Deno.test("every command in hostile environments, in a process of its own", async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--allow-all", "--no-check", new URL(import.meta.url).pathname],
      clearEnv: true,
      env: { ...baseEnv(), [CHILD]: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    const summary = text.split("\n").filter((line) => / \.\.\. (ok|FAILED)/.test(line)).join("\n");
    assert.equal(output.code, 0, `${summary}\n\n${text.slice(-20_000)}`);
    assert.match(text, /ok \| \d+ passed \| 0 failed/, text.slice(-2000));
    console.log(summary);
  });
}
