/**
 * `certrole exec --supervise`: certrole stays the parent (PID 1 in a PID namespace, as in a
 * container) and the command gets credentials from the container endpoint it serves, through a
 * config without credential_process, with the passphrase variables removed (checked in the
 * child's /proc/PID/environ). As PID 1 it forwards signals (a second SIGTERM during shutdown too,
 * without orphaning the child), reaps zombies re-parented to it and exits with the child's code,
 * 128 + the signal when the child was killed. The child does not inherit the runtime guard's
 * ignored SIGUSR1. Namespace tests need root and unshare.
 */
import assert from "node:assert/strict";
import { AWS } from "./support/aws_cli.ts";
import { sessionEnv, startWalkthrough, type Walkthrough } from "./support/emulator.ts";
import { issueLeaf, type Leaf, makeCa } from "./support/pki.ts";
import { baseEnv, certrole, certroleArgv, run, tempDir, waitFor } from "./support/run.ts";

const canUnshare = Deno.uid() === 0 &&
  (await run("unshare", ["--fork", "--pid", "--mount-proc", "true"]).catch(() => ({ code: 1 }))).code === 0;

const dir = await tempDir("certrole-supervise-");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

function superviseEnv(walkthrough: Walkthrough, leaf: Leaf, extra: Record<string, string> = {}) {
  return {
    HOME: dir,
    AWS_CONFIG_FILE: `${dir}/user-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    ROLESANYWHERE_CACHE_DIR: `${dir}/cache`,
    ROLESANYWHERE_SUPERVISE: "true",
    ...sessionEnv(walkthrough, leaf),
    ...extra,
  };
}

const BOTO3 = `
import boto3, json, os, sys
session = boto3.Session()
creds = session.get_credentials()
s3 = session.client("s3", endpoint_url=sys.argv[1])
environ = open("/proc/%d/environ" % os.getpid(), "rb").read().decode()
ignored = int([l for l in open("/proc/self/status") if l.startswith("SigIgn")][0].split()[1], 16)
print(json.dumps({"method": creds.method, "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]],
  "environ_passphrase": "ROLESANYWHERE_KEY_PASSPHRASE" in environ, "config": open(os.environ["AWS_CONFIG_FILE"]).read(),
  "uri": os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"], "static": "AWS_ACCESS_KEY_ID" in os.environ,
  "usr1_ignored": bool(ignored & (1 << 9))}))
sys.exit(7)
`;

Deno.test("supervised boto3 and AWS CLI get credentials from the container endpoint; no passphrase in the child", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  walkthrough.emulator.state.buckets["sup"] = { name: "sup", creationDate: "2024-01-02T03:04:05.000Z", owner: "t" };
  await Deno.writeTextFile(
    `${dir}/user-config`,
    "[default]\nregion = us-east-1\ncredential_process = /bin/false\naws_access_key_id = AKIASHADOW\n\n[profile other]\nregion = eu-west-1\n",
  );
  try {
    const env = superviseEnv(walkthrough, leaf, { AWS_ACCESS_KEY_ID: "AKIAFROMENV", AWS_SECRET_ACCESS_KEY: "x" });
    const boto = await certrole(["exec", "--", "python3", "-c", BOTO3, walkthrough.emulator.url], { env });
    assert.equal(boto.code, 7, `the child's exit code passes through: ${boto.stderr}`);
    const result = JSON.parse(boto.stdout);
    assert.equal(result.method, "container-role");
    assert.deepEqual(result.buckets, ["sup"]);
    assert.equal(result.environ_passphrase, false, "the passphrase is not in the child's environment");
    assert.equal(result.usr1_ignored, false, "the child gets SIGUSR1's default, not certrole's guard");
    assert.equal(result.static, false, "static keys in the environment would shadow the container provider");
    assert.match(result.uri, /^http:\/\/127\.0\.0\.1:\d+\/v1\/credentials$/);
    assert.ok(!/credential_process|aws_access_key_id/.test(result.config), result.config);
    assert.match(result.config, /\[profile other\]\nregion = eu-west-1/, "other profiles kept");
    assert.match(
      boto.stderr,
      /warning: removed AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from the command's environment/,
    );

    const cli = await certrole(["exec", "--", AWS, "s3", "ls", "--endpoint-url", walkthrough.emulator.url], {
      env: superviseEnv(walkthrough, leaf),
    });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /sup/);
    assert.equal(Object.keys(walkthrough.emulator.state.sessions).length, 2, "one CreateSession per supervisor");
  } finally {
    await walkthrough.emulator.close();
  }
});

/** Runs `certrole exec --supervise -- sh -c SCRIPT` as PID 1 of a new PID namespace. */
function spawnAsPid1(walkthrough: Walkthrough, script: string) {
  const child = new Deno.Command("unshare", {
    args: ["--fork", "--pid", "--mount-proc", ...certroleArgv(), "exec", "--", "sh", "-c", script],
    clearEnv: true,
    env: { ...baseEnv(), ...superviseEnv(walkthrough, leaf) },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  let stderr = "";
  const collected = Promise.all([
    (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
    })(),
    (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
    })(),
  ]);
  const pid1 = async () => {
    const found = (await run("pgrep", ["-P", String(child.pid)])).stdout.trim();
    return /^\d+$/.test(found) ? Number(found) : undefined;
  };
  return {
    output: () => ({ stdout, stderr }),
    pid1: () => waitFor(pid1, 10_000, "the namespace's PID 1"),
    async status() {
      const status = await child.status;
      await collected;
      return status;
    },
  };
}

Deno.test("as PID 1: signals forwarded, zombies reaped, a second SIGTERM does not orphan the child", {
  ignore: !canUnshare,
}, async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  // Orphans: each inner sh exits at once, leaving a sleep that is re-parented to PID 1 and
  // becomes a zombie there when it ends, unless PID 1 reaps it.
  const script = `
    terms=0
    trap 'echo got HUP' HUP
    trap 'echo got USR2' USR2
    trap 'terms=$((terms+1)); echo got TERM $terms' TERM
    echo "pid $$"
    for i in 1 2 3; do sh -c 'sleep 0.2 & exit 0'; done
    sleep 1
    echo "zombies $(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)"
    echo "parent $(grep '^PPid:' /proc/$$/status | tr -dc 0-9)"
    echo ready
    while [ "$terms" -lt 2 ]; do sleep 0.05; done
    exit 5`;
  const supervised = spawnAsPid1(walkthrough, script);
  try {
    await waitFor(() => supervised.output().stdout.includes("ready") || undefined, 20_000, "the script");
    const pid = await supervised.pid1();
    Deno.kill(pid, "SIGHUP");
    await waitFor(() => supervised.output().stdout.includes("got HUP") || undefined, 5000, "HUP forwarded");
    Deno.kill(pid, "SIGUSR2");
    await waitFor(() => supervised.output().stdout.includes("got USR2") || undefined, 5000, "USR2 forwarded");
    Deno.kill(pid, "SIGTERM");
    await waitFor(() => supervised.output().stdout.includes("got TERM 1") || undefined, 5000, "TERM forwarded");
    Deno.kill(pid, "SIGTERM");
    const status = await supervised.status();
    const { stdout, stderr } = supervised.output();
    assert.equal(status.code, 5, `exit code of the child, after both TERMs reached it:\n${stdout}\n${stderr}`);
    assert.match(stdout, /got TERM 2/);
    assert.match(stdout, /zombies 0\n/, "orphans reaped");
    assert.match(stdout, /parent 1\n/, "the command is PID 1's child");
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("as PID 1: a child killed by SIGTERM (no handler) ends certrole with 143, promptly", {
  ignore: !canUnshare,
}, async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const supervised = spawnAsPid1(walkthrough, "echo ready; exec sleep 60");
  try {
    await waitFor(() => supervised.output().stdout.includes("ready") || undefined, 20_000, "the command");
    const pid = await supervised.pid1();
    const started = performance.now();
    Deno.kill(pid, "SIGTERM");
    const status = await supervised.status();
    assert.equal(status.code, 143, supervised.output().stderr);
    assert.ok(performance.now() - started < 5000, "stopped on SIGTERM, not after a timeout");
  } finally {
    await walkthrough.emulator.close();
  }
});
