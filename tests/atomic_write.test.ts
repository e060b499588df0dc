/**
 * The one file writer (cli/atomic_write.ts), in-process: the file has its mode from creation on
 * (no moment with group or other bits, whatever the umask), a concurrent reader sees the old
 * content or the new, never part of it, a symlink is refused unless followed on purpose (then
 * its target is replaced and the link kept), `replace: false` keeps an existing file, and no
 * temporary file is left behind.
 */
import assert from "node:assert/strict";
import { SymlinkRefusedError, writeFileAtomically } from "../cli/atomic_write.ts";

const BIG = new Uint8Array(16 * 1024 * 1024).fill(0x6e); // long enough for a reader to run during the write

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
}

/** Runs `probe` over and over until `work` settles; returns what `work` returned and how often probe ran. */
async function during<T>(work: Promise<T>, probe: () => Promise<void>): Promise<{ result: T; probes: number }> {
  let done = false;
  const settled = work.finally(() => done = true);
  let probes = 0;
  while (!done) {
    await probe();
    probes++;
  }
  return { result: await settled, probes };
}

Deno.test("a private file is never visible with group or other bits, and gets its exact mode", async () => {
  const dir = await Deno.makeTempDir();
  const widest: number[] = [];
  const { probes } = await during(writeFileAtomically(`${dir}/key.json`, BIG, { mode: 0o600 }), async () => {
    for (const name of await names(dir)) {
      const info = await Deno.lstat(`${dir}/${name}`).catch(() => undefined);
      if (info) widest.push(info.mode! & 0o777);
    }
  });
  assert.ok(probes > 1, `the directory was looked at during the write (${probes} times)`);
  assert.ok(widest.length > 0, "the temporary file was seen");
  assert.deepEqual(widest.filter((mode) => (mode & 0o077) !== 0), [], "no moment with group or other bits");
  assert.equal((await Deno.stat(`${dir}/key.json`)).mode! & 0o777, 0o600);
  assert.deepEqual(await names(dir), ["key.json"]);
});

Deno.test("a mode the umask would narrow is set exactly", async () => {
  const dir = await Deno.makeTempDir();
  const previous = Deno.umask(0o077);
  try {
    await writeFileAtomically(`${dir}/ready`, "url\n", { mode: 0o644 });
  } finally {
    Deno.umask(previous);
  }
  assert.equal((await Deno.stat(`${dir}/ready`)).mode! & 0o777, 0o644);
});

Deno.test("a concurrent reader sees the old file or the new one, never part of one", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/state.json`;
  await Deno.writeTextFile(path, "old");
  const sizes = new Set<number>();
  const { probes } = await during(writeFileAtomically(path, BIG, { mode: 0o600 }), async () => {
    sizes.add((await Deno.readFile(path)).length);
  });
  assert.ok(probes > 1, `the file was read during the write (${probes} times)`);
  assert.deepEqual([...sizes].filter((size) => size !== 3 && size !== BIG.length), [], "only whole files were read");
  assert.equal((await Deno.readFile(path)).length, BIG.length);
  assert.deepEqual(await names(dir), ["state.json"]);
});

Deno.test("a symlink is refused (its target untouched) unless followed, which keeps the link", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/elsewhere`, "precious");
  await Deno.symlink(`${dir}/elsewhere`, `${dir}/link`);
  await assert.rejects(writeFileAtomically(`${dir}/link`, "new", { mode: 0o600 }), SymlinkRefusedError);
  assert.equal(await Deno.readTextFile(`${dir}/elsewhere`), "precious");
  assert.ok((await Deno.lstat(`${dir}/link`)).isSymlink);
  assert.deepEqual(await names(dir), ["elsewhere", "link"]);

  await writeFileAtomically(`${dir}/link`, "new", { mode: 0o600, followSymlink: true });
  assert.ok((await Deno.lstat(`${dir}/link`)).isSymlink, "the link is still a link");
  assert.equal(await Deno.readTextFile(`${dir}/elsewhere`), "new");
  assert.deepEqual(await names(dir), ["elsewhere", "link"]);
});

Deno.test("replace: false keeps an existing file; a failed write leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  await writeFileAtomically(`${dir}/token`, "first", { mode: 0o440, replace: false });
  assert.equal((await Deno.stat(`${dir}/token`)).mode! & 0o777, 0o440);
  await assert.rejects(
    writeFileAtomically(`${dir}/token`, "second", { mode: 0o440, replace: false }),
    Deno.errors.AlreadyExists,
  );
  assert.equal(await Deno.readTextFile(`${dir}/token`), "first");
  assert.deepEqual(await names(dir), ["token"]);
  await Deno.mkdir(`${dir}/occupied`);
  await assert.rejects(writeFileAtomically(`${dir}/occupied`, "x", { mode: 0o600 }));
  assert.deepEqual(await names(dir), ["occupied", "token"]);
});
