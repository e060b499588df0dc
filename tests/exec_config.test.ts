/**
 * The AWS config exec writes: the user's other profiles and settings kept, the user's file
 * untouched, settings that would shadow credential_process removed from the target profile, a
 * credential_process line that survives paths with spaces, quotes and `=` in both sh and
 * botocore's shlex, and --print-config for baking the profile into an image.
 */
import assert from "node:assert/strict";
import { mergeProfile } from "../cli/aws_config/config_file.ts";
import { OFFLINE_ARNS, offlineExecEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, run, tempDir } from "./support/run.ts";

Deno.test("mergeProfile keeps other profiles, the user's region and comments; drops shadowing keys", () => {
  const user = [
    "# my config",
    "[default]",
    "region = eu-west-1",
    "aws_access_key_id = AKIAOLD",
    "aws_secret_access_key = old",
    "s3 =",
    "  max_concurrent_requests = 20",
    "",
    "[profile other]",
    "role_arn = arn:aws:iam::1:role/x",
    "source_profile = default",
    "",
    "[sso-session corp]",
    "sso_region = us-east-1",
    "",
  ].join("\n");
  const merged = mergeProfile(user, "default", {
    credentialProcess: "certrole credential-process --x",
    region: "us-east-1",
  });
  assert.deepEqual(merged.removed, ["aws_access_key_id", "aws_secret_access_key"]);
  assert.equal(merged.region, "eu-west-1");
  assert.equal(
    merged.text,
    [
      "# my config",
      "[default]",
      "region = eu-west-1",
      "s3 =",
      "  max_concurrent_requests = 20",
      "credential_process = certrole credential-process --x",
      "",
      "[profile other]",
      "role_arn = arn:aws:iam::1:role/x",
      "source_profile = default",
      "",
      "[sso-session corp]",
      "sso_region = us-east-1",
      "",
    ].join("\n"),
  );
  const named = mergeProfile(user, "other", { credentialProcess: "cp", region: "us-east-1" });
  assert.deepEqual(named.removed, ["role_arn", "source_profile"]);
  assert.match(named.text, /\[profile other\]\nregion = us-east-1\ncredential_process = cp\n/);
  assert.match(named.text, /\[sso-session corp\]\nsso_region = us-east-1\n/, "an sso_region outside the profile stays");
  const fresh = mergeProfile(undefined, "ci", { credentialProcess: "cp", region: "ap-south-1" });
  assert.equal(fresh.text, "[profile ci]\nregion = ap-south-1\ncredential_process = cp\n");
});

Deno.test("exec merges the user's config into a private copy and leaves the user's file byte for byte", async () => {
  const dir = await tempDir("certrole exec config ");
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  await Deno.mkdir(`${dir}/.aws`);
  const userConfig = "[default]\noutput = json\n\n[profile prod]\nregion = eu-north-1\naws_access_key_id = AKIAPROD\n";
  await Deno.writeTextFile(`${dir}/.aws/config`, userConfig);
  const before = await Deno.readFile(`${dir}/.aws/config`);
  const env = offlineExecEnv(leaf, dir);
  const result = await certrole(["exec", "--", "sh", "-c", 'echo "$AWS_CONFIG_FILE"; cat "$AWS_CONFIG_FILE"'], { env });
  assert.equal(result.code, 0, result.stderr);
  const [path, ...config] = result.stdout.split("\n");
  assert.notEqual(path, `${dir}/.aws/config`);
  const text = config.join("\n");
  assert.match(text, /\[default\]\noutput = json\nregion = us-east-1\ncredential_process = .*credential-process/);
  assert.match(text, /\[profile prod\]\nregion = eu-north-1\naws_access_key_id = AKIAPROD\n/);
  assert.deepEqual(await Deno.readFile(`${dir}/.aws/config`), before);
  const parent = path.slice(0, path.lastIndexOf("/"));
  assert.equal((await Deno.stat(parent)).mode! & 0o777, 0o700);
  assert.ok(!text.includes(leaf.passphrase!), "the passphrase is not in the config");
});

Deno.test("paths with spaces, quotes and = survive sh and botocore's shlex; --print-config prints the profile", async () => {
  const dir = await tempDir("certrole quoting ");
  const odd = `${dir}/it's a=dir $HOME`;
  await Deno.mkdir(odd);
  const env = {
    ROLESANYWHERE_CERT_LOCATION: `${odd}/cert.pem`,
    ...OFFLINE_ARNS,
    ROLESANYWHERE_AWS_PROFILE: "ra",
  };
  const printed = await certrole(["exec", "--print-config"], { env });
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /^\[profile ra\]\nregion = us-east-1\ncredential_process = /);
  const line = printed.stdout.split("\n").find((l) => l.startsWith("credential_process = "))!.slice(
    "credential_process = ".length,
  );
  const viaShlex = await run("python3", [
    "-c",
    "import shlex, sys, json; print(json.dumps(shlex.split(sys.argv[1])))",
    line,
  ]);
  const shlexArgs: string[] = JSON.parse(viaShlex.stdout);
  assert.equal(shlexArgs[shlexArgs.indexOf("--certificate") + 1], `${odd}/cert.pem`);
  const viaSh = await run("sh", ["-c", `printf '%s\\n' ${line}`]);
  const shArgs = viaSh.stdout.trimEnd().split("\n");
  assert.equal(shArgs[shArgs.indexOf("--certificate") + 1], `${odd}/cert.pem`);
  assert.deepEqual(shArgs, shlexArgs);
});

Deno.test("an unreadable default ~/.aws/config counts as none; an unreadable AWS_CONFIG_FILE is an error", async () => {
  const dir = await tempDir("certrole unreadable config ");
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  // A directory where the file should be: unreadable for every user, root included.
  await Deno.mkdir(`${dir}/.aws/config`, { recursive: true });
  const env = offlineExecEnv(leaf, dir);
  const defaulted = await certrole(["exec", "--", "sh", "-c", 'grep -c "^\\[" "$AWS_CONFIG_FILE"'], { env });
  assert.equal(defaulted.code, 0, defaulted.stderr);
  assert.equal(defaulted.stdout.trim(), "1", "only certrole's own profile");
  const named = await certrole(["exec", "--", "true"], { env: { ...env, AWS_CONFIG_FILE: `${dir}/.aws/config` } });
  assert.equal(named.code, 1);
  assert.match(
    named.stderr,
    /^certrole: AWS config ".*\/\.aws\/config" cannot be read \(.*\): fix its permissions or unset AWS_CONFIG_FILE\n$/,
  );
});
