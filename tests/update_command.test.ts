/**
 * `certrole update` writes the role's credentials into the shared credentials file for one
 * profile, keeping every other line and profile, atomically (a symlinked file keeps its link) and
 * 0600; the AWS CLI then uses them. Without --once it keeps running: a replaced certificate gets
 * new credentials into the file within seconds, and SIGTERM ends it with 0.
 */
import assert from "node:assert/strict";
import { mergeCredentials } from "../cli/aws_config/credentials_file.ts";
import { AWS } from "./support/aws_cli.ts";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, run, spawnResident, tempDir, waitFor } from "./support/run.ts";

const CREDS = { accessKeyId: "ASIANEW", secretAccessKey: "new-secret", sessionToken: "new-token", expiration: "" };

Deno.test("mergeCredentials replaces one profile's keys and keeps everything else", () => {
  const before = [
    "# my credentials",
    "[other]",
    "aws_access_key_id = AKIAOTHER",
    "aws_secret_access_key = other-secret",
    "",
    "[default]",
    "region = eu-west-1",
    "aws_access_key_id=ASIAOLD",
    "aws_secret_access_key = old",
    "aws_security_token = legacy",
    "",
    "[last]",
    "x = 1",
  ].join("\n");
  assert.equal(
    mergeCredentials(before, "default", CREDS),
    [
      "# my credentials",
      "[other]",
      "aws_access_key_id = AKIAOTHER",
      "aws_secret_access_key = other-secret",
      "",
      "[default]",
      "region = eu-west-1",
      "aws_access_key_id = ASIANEW",
      "aws_secret_access_key = new-secret",
      "aws_session_token = new-token",
      "",
      "[last]",
      "x = 1",
      "",
    ].join("\n"),
  );
  assert.equal(
    mergeCredentials("[a]\nk = v\n", "b", CREDS),
    "[a]\nk = v\n\n[b]\naws_access_key_id = ASIANEW\naws_secret_access_key = new-secret\naws_session_token = new-token\n",
  );
  assert.equal(mergeCredentials(undefined, "b", CREDS).split("\n")[0], "[b]");
});

Deno.test("update --once writes the profile atomically, 0600, through a symlink; the AWS CLI uses it", async () => {
  const dir = await tempDir("certrole-update-");
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  walkthrough.emulator.state.buckets["updated"] = {
    name: "updated",
    creationDate: "2024-01-02T03:04:05.000Z",
    owner: "t",
  };
  try {
    await Deno.mkdir(`${dir}/dotfiles`);
    await Deno.writeTextFile(`${dir}/dotfiles/credentials`, "[keep]\naws_access_key_id = AKIAKEEP\n", { mode: 0o644 });
    await Deno.symlink(`${dir}/dotfiles/credentials`, `${dir}/credentials`);
    const env = { HOME: dir, AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`, ...sessionEnv(walkthrough, leaf) };
    const result = await certrole(["update", "--once", "--profile", "bucket-lister"], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^certrole update: wrote \[bucket-lister\] in .*: access key ASIA\w+, expires \S+Z\n$/);
    const [session] = Object.values(walkthrough.emulator.state.sessions);
    assert.ok(!result.stderr.includes(session.secretAccessKey) && !result.stderr.includes(session.sessionToken));
    assert.ok((await Deno.lstat(`${dir}/credentials`)).isSymlink, "the link stays");
    const text = await Deno.readTextFile(`${dir}/dotfiles/credentials`);
    assert.ok(text.startsWith("[keep]\naws_access_key_id = AKIAKEEP\n\n[bucket-lister]\n"));
    assert.ok(text.includes(`aws_session_token = ${session.sessionToken}\n`));
    assert.equal((await Deno.stat(`${dir}/dotfiles/credentials`)).mode! & 0o777, 0o600);

    const ls = await run(AWS, ["s3", "ls", "--endpoint-url", walkthrough.emulator.url], {
      env: {
        HOME: dir,
        AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
        AWS_CONFIG_FILE: `${dir}/no-config`,
        AWS_PROFILE: "bucket-lister",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_EC2_METADATA_DISABLED: "true",
      },
    });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /updated/);
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("update keeps the file fresh: a replaced certificate's credentials are written within seconds; SIGTERM exits 0", async () => {
  const dir = await tempDir("certrole-update-loop-");
  const ca = await makeCa(dir);
  const first = await issueLeaf(ca, "first");
  const second = await issueLeaf(ca, "second");
  await Deno.copyFile(first.cert, `${dir}/cert.pem`);
  await Deno.copyFile(first.key, `${dir}/key.pem`);
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const path = `${dir}/credentials`;
  const { child, output, status } = spawnResident(["update"], {
    HOME: dir,
    AWS_SHARED_CREDENTIALS_FILE: path,
    ...sessionEnv(walkthrough, { ...first, cert: `${dir}/cert.pem`, key: `${dir}/key.pem` }),
  });
  try {
    const keyIn = async () => (await Deno.readTextFile(path).catch(() => "")).match(/aws_access_key_id = (\w+)/)?.[1];
    const before = await waitFor(keyIn, 20_000, "the first write");
    // Both files replaced by renames, as a certificate manager does.
    await Deno.copyFile(second.key, `${dir}/key.new`);
    await Deno.copyFile(second.cert, `${dir}/cert.new`);
    await Deno.rename(`${dir}/key.new`, `${dir}/key.pem`);
    await Deno.rename(`${dir}/cert.new`, `${dir}/cert.pem`);
    const after = await waitFor(
      async () => {
        const key = await keyIn();
        return key && key !== before ? key : undefined;
      },
      10_000,
      "new credentials in the file",
    );
    assert.equal(walkthrough.emulator.state.sessions[after].certificateSerial, await serialOf(second.cert));
    child.kill("SIGTERM");
    assert.equal((await status).code, 0, output().stderr);
    assert.match(output().stderr, /rotation: certificate serial \d+ replaced by serial \d+/);
    assert.match(output().stderr, /stopped on SIGTERM/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await status;
    await walkthrough.emulator.close();
  }
});

async function serialOf(cert: string): Promise<string> {
  const { stdout } = await run("openssl", ["x509", "-in", cert, "-noout", "-serial"]);
  return BigInt(`0x${stdout.trim().split("=")[1]}`).toString();
}
