/**
 * The credential cache never follows a symlink or uses another user's directory or lock file: a
 * cache directory that is a link (say, one someone else made in a shared place, pointing at a
 * directory of yours) or owned by another user, and a lock file that is a link or another
 * user's, stop credential-process with one line naming the path and the fix; nothing is
 * chmodded, created, truncated or written through them.
 */
import assert from "node:assert/strict";
import { prepareCacheDir, withLock } from "../cli/credentials/cache.ts";
import { CertroleError } from "../cli/errors.ts";
import { certrole, tempDir } from "./support/run.ts";

const ROOT_ONLY = { ignore: Deno.uid() !== 0 }; // chown to nobody (65534) needs root: skipped for other users
const quiet = () => {};

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
}

function unsafe(fragment: string) {
  return (error: unknown) => {
    assert.ok(error instanceof CertroleError, String(error));
    assert.equal(error.code, "UnsafeCache");
    assert.ok(error.message.includes(fragment), error.message);
    assert.match(error.message, /: set --cache-dir \(ROLESANYWHERE_CACHE_DIR\) to a directory of your own/);
    return true;
  };
}

Deno.test("a cache directory that is a symlink is refused; the directory it names is left alone", async () => {
  const dir = await tempDir();
  await Deno.mkdir(`${dir}/yours`, { mode: 0o755 });
  await Deno.chmod(`${dir}/yours`, 0o755);
  await Deno.symlink(`${dir}/yours`, `${dir}/cache`);
  await assert.rejects(
    prepareCacheDir(`${dir}/cache`, quiet),
    unsafe(`cache directory "${dir}/cache" is a symbolic link`),
  );
  assert.equal((await Deno.stat(`${dir}/yours`)).mode! & 0o777, 0o755, "not chmodded 0700");
  assert.deepEqual(await names(`${dir}/yours`), []);
});

Deno.test("credential-process stops with one line naming a symlinked cache directory", async () => {
  const dir = await tempDir();
  await Deno.mkdir(`${dir}/yours`);
  await Deno.symlink(`${dir}/yours`, `${dir}/cache`);
  const result = await certrole([
    "credential-process",
    "--cache-dir",
    `${dir}/cache`,
    "--trust-anchor-arn",
    "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a",
    "--profile-arn",
    "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p",
    "--role-arn",
    "arn:aws:iam::123456789012:role/r",
    "--certificate",
    `${dir}/cert.pem`,
    "--private-key",
    `${dir}/key.pem`,
  ]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    `certrole: cache directory "${dir}/cache" is a symbolic link, which certrole does not follow: ` +
      "set --cache-dir (ROLESANYWHERE_CACHE_DIR) to a directory of your own, or remove it\n",
  );
  assert.deepEqual(await names(`${dir}/yours`), []);
});

Deno.test(
  "a cache directory owned by another user (nobody) is refused (root only: needs chown)",
  ROOT_ONLY,
  async () => {
    const dir = `${await tempDir()}/cache`;
    await Deno.mkdir(dir, { mode: 0o777 });
    await Deno.chmod(dir, 0o777);
    await Deno.chown(dir, 65534, 65534);
    await assert.rejects(prepareCacheDir(dir, quiet), unsafe(`"${dir}" belongs to uid 65534, not to you (uid 0)`));
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o777, "not chmodded");
    assert.deepEqual(await names(dir), []);
  },
);

Deno.test("a lock file that is a symlink is refused: its target is neither created nor truncated", async () => {
  const dir = (await prepareCacheDir(`${await tempDir()}/cache`, quiet))!;
  const elsewhere = await tempDir();
  await Deno.writeTextFile(`${elsewhere}/victim`, "keep");
  await Deno.symlink(`${elsewhere}/victim`, `${dir}/key.lock`);
  await Deno.symlink(`${elsewhere}/created`, `${dir}/dangling.lock`);
  let ran = false;
  const work = () => Promise.resolve(ran = true);
  await assert.rejects(
    withLock(dir, "key", quiet, work),
    unsafe(`cache lock file "${dir}/key.lock" is a symbolic link`),
  );
  await assert.rejects(withLock(dir, "dangling", quiet, work), unsafe(`"${dir}/dangling.lock" is a symbolic link`));
  assert.equal(ran, false);
  assert.equal(await Deno.readTextFile(`${elsewhere}/victim`), "keep");
  assert.deepEqual(await names(elsewhere), ["victim"]);
});

Deno.test("a lock file owned by another user (nobody) is refused (root only: needs chown)", ROOT_ONLY, async () => {
  const dir = (await prepareCacheDir(`${await tempDir()}/cache`, quiet))!;
  await Deno.writeTextFile(`${dir}/key.lock`, "");
  await Deno.chown(`${dir}/key.lock`, 65534, 65534);
  await assert.rejects(
    withLock(dir, "key", quiet, () => Promise.resolve()),
    unsafe(`cache lock file "${dir}/key.lock" belongs to uid 65534`),
  );
});
