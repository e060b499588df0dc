/**
 * The launcher (`make build`, the images' bundle mode) hands the wrapped command the environment
 * it was given: with no `node` on PATH, Deno 2.9 would put its own `node` shim first on PATH (and
 * set DENO_NODE_SHIM_ACTIVE), so `certrole exec -- node app.js` would run Deno; the launcher turns
 * that off. CERTROLE_LAUNCHER, the launcher's note to certrole, does not reach the command either.
 * And the launcher's Deno never asks dl.deno.land for a newer release (through HTTPS_PROXY).
 */
import assert from "node:assert/strict";
import { offlineExecEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { ROOT, run, tempDir } from "./support/run.ts";

Deno.test("certrole exec through the launcher: the command's PATH is the caller's, no Deno shim", async () => {
  const dir = await tempDir();
  const built = await run(Deno.execPath(), ["run", "-A", `${ROOT}/scripts/build.ts`, "--out", `${dir}/dist`]);
  assert.equal(built.code, 0, built.stderr);
  const ca = await makeCa(`${dir}/pki`);
  const leaf = await issueLeaf(ca, "leaf");
  // A PATH without node, as in the aws-cli and python images.
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin);
  await Deno.symlink("/bin/sh", `${bin}/sh`);
  await Deno.symlink("/usr/bin/env", `${bin}/env`);
  const result = await run(`${dir}/dist/certrole`, ["exec", "--", "env"], {
    cleanEnv: false,
    env: { ...offlineExecEnv(leaf, `${dir}/home`), PATH: bin },
  });
  assert.equal(result.code, 0, result.stderr);
  const env = Object.fromEntries(
    result.stdout.trim().split("\n").map((
      line,
    ) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  assert.equal(env.PATH, bin, "PATH reaches the command unchanged");
  assert.equal(env.DENO_NODE_SHIM_ACTIVE, undefined);
  assert.equal(env.CERTROLE_LAUNCHER, undefined);
  assert.equal(env.DENO_NO_UPDATE_CHECK, undefined, "the launcher's setting for Deno stays with certrole");
  assert.ok(env.AWS_CONFIG_FILE, "and exec did its job");
});

Deno.test("the launcher's Deno never asks dl.deno.land for updates, even with a fresh DENO_DIR and HTTPS_PROXY", async () => {
  const dir = await tempDir();
  const built = await run(Deno.execPath(), ["run", "-A", `${ROOT}/scripts/build.ts`, "--out", `${dir}/dist`]);
  assert.equal(built.code, 0, built.stderr);
  // A proxy that records what it is asked to CONNECT to, and answers nothing.
  const proxy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const asked: string[] = [];
  const accepting = (async () => {
    for await (const conn of proxy) {
      const buffer = new Uint8Array(512);
      const n = await conn.read(buffer).catch(() => null);
      asked.push(new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0]);
      conn.close();
    }
  })();
  // A long-lived command, so Deno's background release check has time to run.
  const emulator = new Deno.Command(`${dir}/dist/certrole`, {
    args: ["emulator", "--port", "0", "--ready-file", `${dir}/ready`],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH")!,
      HOME: dir,
      DENO_DIR: `${dir}/fresh-deno-dir`,
      HTTPS_PROXY: `http://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`,
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    while (!(await Deno.stat(`${dir}/ready`).then(() => true, () => false))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(asked, []);
  } finally {
    emulator.kill("SIGTERM");
    await emulator.status;
    proxy.close();
    await accepting.catch(() => {});
  }
});

Deno.test("NODE_OPTIONS is the command's: a --require preload never runs inside certrole, and the command gets the value back", async () => {
  const dir = await tempDir();
  const built = await run(Deno.execPath(), ["run", "-A", `${ROOT}/scripts/build.ts`, "--out", `${dir}/dist`]);
  assert.equal(built.code, 0, built.stderr);
  const ca = await makeCa(`${dir}/pki`);
  const leaf = await issueLeaf(ca, "leaf");
  // Deno 2.9 honours NODE_OPTIONS' --require: this preload leaves a mark wherever it runs.
  const marker = `${dir}/preloaded`;
  const preload = `${dir}/preload.cjs`;
  await Deno.writeTextFile(
    preload,
    `require("fs").appendFileSync(${JSON.stringify(marker)}, process.argv0 + "\\n");\n`,
  );
  const base = offlineExecEnv(leaf, `${dir}/home`);
  for (const value of [`--require ${preload}`, ""]) {
    const result = await run(`${dir}/dist/certrole`, ["exec", "--", "env"], {
      cleanEnv: false,
      env: { ...base, NODE_OPTIONS: value },
    });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.ok(lines.includes(`NODE_OPTIONS=${value}`), `the command gets NODE_OPTIONS=${JSON.stringify(value)} back`);
    assert.ok(!lines.some((line) => line.startsWith("CERTROLE_CALLER_NODE_OPTIONS=")));
  }
  assert.equal(await Deno.stat(marker).then(() => "preloaded into certrole", () => "never loaded"), "never loaded");
  const unset = await run(`${dir}/dist/certrole`, ["exec", "--", "env"], { cleanEnv: false, env: base });
  assert.equal(unset.code, 0, unset.stderr);
  assert.ok(!unset.stdout.split("\n").some((line) => line.startsWith("NODE_OPTIONS=")), "unset stays unset");
});
