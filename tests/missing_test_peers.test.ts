/**
 * scripts/test_peers.sh, which `make test`, `make lint`, `make test-images` and .ci/run start
 * with: a user who cannot install gets one line naming the apt-get command for exactly what is
 * missing (or the pip command when the `python3` on PATH is not Debian's), and nothing else
 * happens; with every peer present it says nothing. (Installing as root is what the fresh
 * machine trial, scripts/fresh_machine_trial.sh, proves.)
 */
import assert from "node:assert/strict";
import { ROOT, run, tempDir } from "./support/run.ts";

// A copy the unprivileged user can read (a clone under /root is not readable by nobody).
const scratch = await tempDir("certrole peers ");
await Deno.chmod(scratch, 0o755);
const SCRIPT = `${scratch}/test_peers.sh`;
await Deno.copyFile(`${ROOT}/scripts/test_peers.sh`, SCRIPT);
await Deno.chmod(SCRIPT, 0o644);
async function which(program: string): Promise<string> {
  const found = await run("sh", ["-c", `command -v ${program}`]);
  return found.stdout.trim();
}

const setpriv = Deno.uid() === 0 ? await which("setpriv") : undefined;

/** Runs the script as an unprivileged user (nobody, when we are root) with exactly this PATH. */
function asUser(path: string, ...modes: string[]) {
  const [command, args] = setpriv
    ? [setpriv, ["--reuid", "65534", "--regid", "65534", "--clear-groups", "/bin/sh", SCRIPT, ...modes]]
    : ["/bin/sh", [SCRIPT, ...modes]];
  return run(command, args, { env: { PATH: path } });
}

/** A PATH directory holding only the named programs (symlinks to the machine's). */
async function pathWith(dir: string, programs: Record<string, string>): Promise<string> {
  const bin = `${dir}/bin-${Object.keys(programs).length}-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(bin);
  for (const [name, target] of Object.entries(programs)) await Deno.symlink(target, `${bin}/${name}`);
  return bin;
}

Deno.test("missing peers, no root: one line naming the apt-get command, exit 1, nothing run", async () => {
  const dir = await tempDir();
  await Deno.chmod(dir, 0o755);
  const path = await pathWith(dir, {
    id: await which("id"),
    "apt-get": await which("apt-get") || "/usr/bin/apt-get",
    python3: "/usr/bin/python3",
  });
  const result = await asUser(path, "test", "lint");
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  const command = lines[0].match(/: run sudo apt-get install -y --no-install-recommends ([^,]*)/)?.[1];
  assert.ok(command, lines[0]);
  for (const want of ["openssl", "jq", "procps", "shellcheck"]) assert.ok(command.split(" ").includes(want), want);

  const unknown = await asUser(path, "tests");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown mode "tests": use test, lint, images or deploy/);
  await Deno.remove(dir, { recursive: true });
});

// A python3 that is not Debian's (pyenv's, a virtualenv) needs pip, which apt-get cannot do.
const venvPython = await (async () => {
  const dir = await tempDir("certrole venv ");
  await Deno.chmod(dir, 0o755);
  const made = await run("/usr/bin/python3", ["-m", "venv", "--without-pip", `${dir}/venv`]);
  return made.code === 0 ? { dir, python: `${dir}/venv/bin/python3` } : undefined;
})();

Deno.test({
  name: "a python3 first on PATH that is not Debian's and lacks boto3: the pip command for that python3",
  ignore: !venvPython,
  fn: async () => {
    const { dir, python } = venvPython!;
    const tools = Object.fromEntries(
      await Promise.all(["id", "openssl", "jq", "pgrep"].map(async (name) => [name, await which(name)])),
    );
    const result = await asUser(`${await pathWith(dir, tools)}:${python.replace(/\/python3$/, "")}`, "test");
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^certrole's tests need what apt-get cannot install here: run .*${dir}/venv/bin/python3\\S* -m pip install boto3`,
      ),
    );
    assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("every peer present (make test installed them): silent, exit 0", async () => {
  const result = await run("sh", [SCRIPT, "test"], { env: { PATH: Deno.env.get("PATH")! } });
  assert.deepEqual([result.code, result.stdout, result.stderr], [0, "", ""]);
});
