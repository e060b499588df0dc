/**
 * `podman stop` ends each image's command promptly, by its STOPSIGNAL, in the mode it ships: the
 * python and node images run `exec --supervise`, so certrole is PID 1, forwards SIGTERM and the
 * command, not PID 1, dies of the signal's default action (exit 143) while an application's own
 * SIGTERM handler still wins; the ruby image replaces certrole with Ruby, which handles SIGTERM
 * itself (exit 1 as PID 1). An exit code of 137 would mean the signal was dropped and podman killed
 * the container after its timeout.
 */
import assert from "node:assert/strict";
import {
  buildVariant,
  containerName,
  ensureDebian,
  exitCodeOf,
  IMAGE_TESTS_SKIPPED,
  type ImagePki,
  makeImagePki,
  podman,
  podmanOk,
  type TestedVariant,
  waitForLog,
  waitForPid1,
  withWalkthrough,
} from "./support/images.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined;
/** PID 1 of a supervising image: certrole (Deno running its bundle), not the command. */
const SUPERVISOR = /certrole.* exec --supervise --/;
let pki: Promise<ImagePki> | undefined;

interface Case {
  readonly variant: TestedVariant;
  readonly title: string;
  /** Prints "ready" once its signal handling is in place, then waits. */
  readonly command: string[];
  readonly pid1: RegExp;
  readonly exitCode: number;
  readonly log?: string;
}

const CASES: Case[] = [
  {
    variant: "python",
    title: "python image: podman stop ends python (certrole's child) with SIGTERM, exit 143",
    command: ["python", "-c", "import time; print('ready', flush=True); time.sleep(600)"],
    pid1: SUPERVISOR,
    exitCode: 143,
  },
  {
    variant: "node",
    title: "node image: podman stop ends node (certrole's child) with SIGTERM, exit 143",
    command: ["node", "-e", "console.log('ready'); setTimeout(() => {}, 600000)"],
    pid1: SUPERVISOR,
    exitCode: 143,
  },
  {
    variant: "node",
    title: "node image: an application's own SIGTERM handler still runs (graceful exit 0)",
    command: [
      "node",
      "-e",
      "process.on('SIGTERM', () => { console.log('graceful'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000)",
    ],
    pid1: SUPERVISOR,
    exitCode: 0,
    log: "graceful",
  },
  {
    variant: "ruby",
    title: "ruby image: podman stop ends ruby (PID 1) with SIGTERM, exit 1",
    command: ["ruby", "-e", "$stdout.sync = true; puts 'ready'; sleep 600"],
    pid1: /^ruby/,
    // Ruby's handler raises SignalException; at exit Ruby re-raises the signal with the default
    // action, which the kernel drops for PID 1, and falls back to exit status 1.
    exitCode: 1,
  },
];

for (const testCase of CASES) {
  Deno.test({ name: testCase.title, ignore }, async () => {
    await ensureDebian(console.log);
    const image = await buildVariant(testCase.variant);
    pki ??= makeImagePki();
    await withWalkthrough(await pki, async (walkthrough) => {
      const name = containerName(`${testCase.variant}-stop`);
      try {
        await podmanOk(
          ["run", "-d", "--name", name, ...walkthrough.runArgs(), image, ...testCase.command],
          walkthrough.secretEnv(),
        );
        await waitForLog(name, "ready");
        await waitForPid1(name, testCase.pid1);
        await podmanOk(["stop", "--time", "30", name]);
        const logs = await podman(["logs", name]);
        assert.equal(await exitCodeOf(name), testCase.exitCode, `logs:\n${logs.stdout}${logs.stderr}`);
        if (testCase.log) assert.match(logs.stdout, new RegExp(testCase.log));
      } finally {
        await podman(["rm", "-f", name]);
      }
    });
  });
}
