/**
 * The aws-cli, python, node and ruby images in supervise mode (`exec --supervise`, what aws-cli,
 * python and node ship): certrole stays PID 1, the command inside gets its credentials from the
 * container endpoint certrole serves (the AWS CLI, boto3, the JS SDK), and `podman stop --time 1`
 * ends each container by SIGTERM alone (exit 143: the command, not PID 1, dies of the signal's
 * default action) with no STOPSIGNAL workaround (the node image sets no preload in this mode); 137
 * would mean podman had to SIGKILL it after the second. Each also runs in replace mode (`exec --`,
 * what ruby ships) with that mode's stop signal and environment (node: the preload through
 * NODE_OPTIONS), and prints what each mode costs (PID 1's RSS, the SDK's credential fetch, the
 * stop): the numbers behind each image's default. The AWS CLI is stopped mid-call, waiting on a
 * server that never answers.
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
  pid1Memory,
  podman,
  podmanOk,
  silentServer,
  type TestedVariant,
  waitForLog,
  within,
  withWalkthrough,
} from "./support/images.ts";

const ignore = IMAGE_TESTS_SKIPPED !== undefined;
let pki: Promise<ImagePki> | undefined;

const PID1_RSS = "open('/proc/1/status').read().split('VmRSS:')[1].split()[0]";
const ENTRYPOINT = {
  supervise: '["/usr/local/bin/certrole", "exec", "--supervise", "--"]',
  replace: '["/usr/local/bin/certrole", "exec", "--"]',
};
const CASES: {
  variant: TestedVariant;
  command: string[];
  method?: string;
  replaceStop: string;
  replaceEnv?: string[];
}[] = [
  {
    variant: "python",
    command: [
      "python3",
      "-c",
      "import boto3, time\ns = boto3.Session()\nt = time.perf_counter()\nc = s.get_credentials()\n" +
      "c.get_frozen_credentials()\nf = (time.perf_counter() - t) * 1000\n" +
      `print('method %s fetch_ms %.1f pid1_rss_kb %s' % (c.method, f, ${PID1_RSS}), flush=True)\n` +
      "print('ready', flush=True)\ntime.sleep(600)",
    ],
    method: "container-role",
    replaceStop: "SIGINT", // Python as PID 1 has no SIGTERM handler
  },
  {
    variant: "node",
    command: [
      "node",
      "-e",
      "const { S3Client } = require('@aws-sdk/client-s3'); const c = new S3Client({ region: 'us-east-1' });" +
      "const t = performance.now(); c.config.credentials().then(() => { const f = performance.now() - t;" +
      "const rss = require('fs').readFileSync('/proc/1/status', 'utf8').match(/VmRSS:\\s+(\\d+)/)[1];" +
      "console.log(`fetch_ms ${f.toFixed(1)} pid1_rss_kb ${rss}`); console.log('ready'); setInterval(() => {}, 1000); });",
    ],
    replaceStop: "SIGTERM", // handled by node-pid1-signals.cjs, preloaded as entrypoints/node.json's replace mode does
    replaceEnv: ["-e", "NODE_OPTIONS=--require /usr/local/lib/certrole/node-pid1-signals.cjs"],
  },
  {
    variant: "ruby",
    command: [
      "ruby",
      "-e",
      "$stdout.sync = true; puts \"pid1_rss_kb #{File.read('/proc/1/status')[/VmRSS:\\s+(\\d+)/, 1]}\"; puts 'ready'; sleep 600",
    ],
    replaceStop: "SIGTERM", // Ruby handles it
  },
];

for (const testCase of CASES) {
  Deno.test({
    name: `${testCase.variant} image, supervise mode: credentials from certrole, stopped by SIGTERM within 1 s`,
    ignore,
  }, async () => {
    await ensureDebian(console.log);
    const image = await buildVariant(testCase.variant);
    pki ??= makeImagePki();
    await withWalkthrough(await pki, async (walkthrough) => {
      const measured: string[] = [];
      for (const mode of ["supervise", "replace"] as const) {
        const name = containerName(`${testCase.variant}-${mode}`);
        const modeArgs = mode === "supervise"
          ? ["--entrypoint", ENTRYPOINT.supervise, "--stop-signal", "SIGTERM"]
          : ["--entrypoint", ENTRYPOINT.replace, "--stop-signal", testCase.replaceStop, ...testCase.replaceEnv ?? []];
        try {
          await podmanOk(
            ["run", "-d", "--name", name, ...walkthrough.runArgs(), ...modeArgs, image, ...testCase.command],
            walkthrough.secretEnv(),
          );
          await waitForLog(name, "ready");
          const logs = await podman(["logs", name]);
          const line = logs.stdout.split("\n").find((text) => text.includes("pid1_rss_kb")) ?? "";
          if (mode === "supervise" && testCase.method) assert.match(line, new RegExp(`method ${testCase.method} `));
          const started = performance.now();
          await podmanOk(["stop", "--time", mode === "supervise" ? "1" : "30", name]);
          const stopMs = performance.now() - started;
          const code = await exitCodeOf(name);
          if (mode === "supervise") {
            assert.equal(code, 143, `SIGTERM's default action ended the command, not SIGKILL (137):\n${logs.stderr}`);
          }
          measured.push(`${mode}: ${line.trim()} stop_ms ${stopMs.toFixed(0)} exit ${code}`);
        } finally {
          await podman(["rm", "-f", name]);
        }
      }
      console.log(`${testCase.variant} image: ${measured.join("; ")}`);
    });
  });
}

Deno.test({
  name: "aws-cli image, supervise mode: the AWS CLI mid-call stopped by SIGTERM within 1 s (and replace mode)",
  ignore,
}, async () => {
  await ensureDebian(console.log);
  const image = await buildVariant("aws-cli");
  pki ??= makeImagePki();
  await withWalkthrough(await pki, async (walkthrough) => {
    const measured: string[] = [];
    for (const mode of ["supervise", "replace"] as const) {
      const name = containerName(`aws-cli-${mode}`);
      // The CLI waits on a server that never answers: credentials fetched, the call in flight.
      const silent = silentServer();
      const modeArgs = mode === "supervise"
        ? ["--entrypoint", ENTRYPOINT.supervise.replace(/\]$/, ', "aws"]'), "--stop-signal", "SIGTERM"]
        : ["--entrypoint", ENTRYPOINT.replace.replace(/\]$/, ', "aws"]'), "--stop-signal", "SIGINT"];
      try {
        await podmanOk(
          [
            "run",
            "-d",
            "--name",
            name,
            ...walkthrough.runArgs(),
            ...modeArgs,
            image,
            ...["s3", "ls", "--endpoint-url", `http://127.0.0.1:${silent.port}`, "--cli-read-timeout", "0"],
          ],
          walkthrough.secretEnv(),
        );
        await within(60, "the AWS CLI connecting to the silent server", silent.connected);
        const { rssKiB } = await pid1Memory(name);
        const started = performance.now();
        await podmanOk(["stop", "--time", mode === "supervise" ? "1" : "30", name]);
        const stopMs = performance.now() - started;
        const code = await exitCodeOf(name);
        if (mode === "supervise") {
          assert.equal(code, 143, "SIGTERM's default action ended the AWS CLI, not SIGKILL (137)");
        }
        measured.push(`${mode}: pid1_rss_kb ${rssKiB} stop_ms ${stopMs.toFixed(0)} exit ${code}`);
      } finally {
        silent.close();
        await podman(["rm", "-f", name]);
      }
    }
    console.log(`aws-cli image: ${measured.join("; ")}`);
  });
});
