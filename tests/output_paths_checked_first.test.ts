/**
 * The files `serve` (--env-file, --ready-file) and `update` (the credentials file) write once they
 * hold credentials are checked before the first CreateSession: a missing directory, a directory
 * where the file belongs, or a parent that is a file is one line naming the flag and the path,
 * exit 1, at once, and the emulator sees no CreateSession. A writable path still works.
 */
import assert from "node:assert/strict";
import { checkReplaceable } from "../cli/atomic_write.ts";
import { CertroleError } from "../cli/errors.ts";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { assertOneLineRefusal } from "./support/hostile_files.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");
await Deno.writeTextFile(`${dir}/a-file`, "");

const BAD: readonly (readonly [string, RegExp])[] = [
  [`${dir}/missing/out`, /: directory ".*\/missing" does not exist: create it or pick another path$/],
  [dir, / is a directory: name a file \(e\.g\. .*\/FILE\)$/],
  [`${dir}/a-file/out`, /: ".*\/a-file" is not a directory$/],
];

Deno.test("checkReplaceable refuses what replaceFile would fail on, and leaves nothing behind", async () => {
  for (const [path, message] of BAD) {
    await assert.rejects(checkReplaceable(path, "--env-file"), (error: unknown) => {
      assert.ok(error instanceof CertroleError);
      assert.ok(error.message.startsWith(`--env-file "${path}"`), error.message);
      assert.match(error.message, message);
      return true;
    });
  }
  const fresh = await tempDir();
  await checkReplaceable(`${fresh}/client.env`, "--env-file");
  assert.deepEqual([...Deno.readDirSync(fresh)], [], "the probe file is removed");
});

Deno.test("checkReplaceable judges a symlink by where replaceFile writes: beside its target, even a dangling one's", async () => {
  const links = await tempDir();
  await Deno.mkdir(`${links}/real`);
  await Deno.symlink(`${links}/gone/out`, `${links}/dangling`);
  await assert.rejects(
    checkReplaceable(`${links}/dangling`, "--ready-file"),
    (error: unknown) => error instanceof CertroleError && /directory ".*\/gone" does not exist/.test(error.message),
  );
  await Deno.symlink("real/out", `${links}/relative`);
  await checkReplaceable(`${links}/relative`, "--ready-file");
  assert.deepEqual([...Deno.readDirSync(`${links}/real`)], [], "the probe file went beside the target, and is removed");
});

Deno.test("serve --env-file/--ready-file and update's credentials file: refused before any CreateSession", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  try {
    const env = { HOME: dir, ...sessionEnv(walkthrough, leaf) };
    for (const [path, message] of BAD) {
      for (const flag of ["--env-file", "--ready-file"]) {
        const result = await certrole(["serve", "--port", "0", "--token-file", `${dir}/token`, flag, path], {
          env,
          killAfterMs: 20_000,
        });
        assertOneLineRefusal(result, message);
        assert.match(result.stderr, new RegExp(`^certrole: ${flag} "${path}"[^\\n]*\\n$`));
      }
      const update = await certrole(["update", "--once"], {
        env: { ...env, AWS_SHARED_CREDENTIALS_FILE: path },
        killAfterMs: 20_000,
      });
      assertOneLineRefusal(update, new RegExp(`^certrole: credentials file "${path}"`));
      assert.match(update.stderr, new RegExp(`^certrole: credentials file "${path}"[^\\n]*\\n$`));
    }
    assert.equal(Object.keys(walkthrough.emulator.state.sessions).length, 0, "no CreateSession was signed");
    const fine = await certrole(["update", "--once"], {
      env: { ...env, AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials` },
      killAfterMs: 20_000,
    });
    assert.equal(fine.code, 0, fine.stderr);
    assert.match(await Deno.readTextFile(`${dir}/credentials`), /^aws_session_token = /m);
  } finally {
    await walkthrough.emulator.close();
  }
});
