/**
 * `certrole exec` in read-only containers. With a read-only root and a tmpfs (docker run
 * --read-only --tmpfs /tmp, simulated with a private mount namespace), the config falls back to a
 * temporary directory that also holds the credential cache, named in the credential_process line:
 * the command's AWS calls reuse the preflight's credentials (without --cache-dir each of them called
 * CreateSession). With nothing writable at all, exec stops with one line saying what to mount (it
 * ended in a stack trace, exit 70), as root on a read-only root and as an unprivileged user.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { OFFLINE_ARNS } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { baseEnv, certroleArgv, tempDir } from "./support/run.ts";
import { asNobody, canRunUnprivileged, unprivilegedLauncher } from "./support/unprivileged.ts";
import { canUnshareMounts, readOnlyRoot } from "./support/read_only_root.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
const caPem = await Deno.readTextFile(ca.cert);

async function spawn(argv: string[], env: Record<string, string>) {
  const [command, ...args] = argv;
  const output = await new Deno.Command(command, { args, clearEnv: true, env, stdout: "piped", stderr: "piped" })
    .output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

function assertOneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /internal error|\bat \S+\.ts:\d+/);
  return lines[0];
}

// The command runs the credential_process line exec wrote twice, as two AWS calls would, and prints it.
const RUN_THE_LINE_TWICE = 'line=$(sed -n "s/^credential_process = //p" "$AWS_CONFIG_FILE") && ' +
  'for call in 1 2; do eval "$line" > /dev/null || exit 9; done && printf "%s\\n" "$line"';

Deno.test("read-only root with a tmpfs: the temporary config directory is the cache the command's calls reuse", {
  ignore: !canUnshareMounts,
}, async () => {
  const walkthrough = await startWalkthrough(caPem);
  try {
    const home = await Deno.makeTempDir();
    const tmpfs = await Deno.makeTempDir();
    const result = await spawn(
      [...readOnlyRoot(tmpfs), ...certroleArgv(), "exec", "--", "sh", "-c", RUN_THE_LINE_TWICE],
      { ...baseEnv(), ...sessionEnv(walkthrough, leaf), HOME: home, TMPDIR: tmpfs },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`--cache-dir ${tmpfs}/certrole-\\w+ `), result.stdout);
    assert.equal(walkthrough.emulator.state.sessionsIssued, 1, "the preflight's CreateSession, then the cache");
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("read-only root without a tmpfs: one line saying what to mount, exit 1, the command never runs", {
  ignore: !canUnshareMounts,
}, async () => {
  const home = await Deno.makeTempDir();
  const result = await spawn(
    [...readOnlyRoot(), ...certroleArgv(), "exec", "--", "sh", "-c", "echo ran"],
    {
      ...baseEnv(),
      ...OFFLINE_ARNS,
      ROLESANYWHERE_CERT_LOCATION: leaf.cert,
      ROLESANYWHERE_KEY_LOCATION: leaf.key,
      ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
      ROLESANYWHERE_PREFLIGHT: "false",
      HOME: home,
      TMPDIR: dir,
    },
  );
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, "");
  assert.match(
    assertOneLine(result.stderr),
    new RegExp(
      `^certrole: exec has nowhere to write its AWS config: neither the cache directory "${home}/\\.cache/certrole" nor the temporary directory "${dir}" is writable \\(.*\\): mount one \\(docker run --tmpfs /tmp\\) or set ROLESANYWHERE_CACHE_DIR to a writable directory$`,
    ),
  );
});

Deno.test("an unprivileged user with no writable HOME or TMPDIR gets the same one line", {
  ignore: !canRunUnprivileged,
}, async () => {
  const launcher = await unprivilegedLauncher();
  const files = await Deno.makeTempDir();
  await Deno.chmod(files, 0o755);
  for (const name of ["cert.pem", "key.pem"]) {
    await Deno.copyFile(name === "cert.pem" ? leaf.cert : leaf.key, `${files}/${name}`);
    await Deno.chmod(`${files}/${name}`, 0o644);
  }
  // HOME=/ as for a numeric --user without a passwd entry; TMPDIR a directory only root may write.
  const result = await spawn(asNobody([launcher, "exec", "--", "true"]), {
    PATH: "/usr/bin:/bin",
    HOME: "/",
    TMPDIR: files,
    DENO_DIR: `${files}/deno`,
    ...OFFLINE_ARNS,
    ROLESANYWHERE_CERT_LOCATION: `${files}/cert.pem`,
    ROLESANYWHERE_KEY_LOCATION: `${files}/key.pem`,
    ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase!,
    ROLESANYWHERE_PREFLIGHT: "false",
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    assertOneLine(result.stderr),
    new RegExp(
      `^certrole: exec has nowhere to write its AWS config: the temporary directory "${files}" is not writable`,
    ),
  );
});
