/**
 * What opening an encrypted key may cost is bounded: PBKDF2 above 10,000,000 iterations, PBES1
 * above 1,000,000 and scrypt above 256 MiB (128·N·r·p) are refused at once, with one line
 * naming the parameter, the file and the limit (a 2^31-iteration key used to take 18 minutes,
 * scrypt N=2^24 tried to take 16 GiB); parameters no KDF accepts (0 iterations, 2^32 and more,
 * scrypt N not a power of two, r or p of 0, a key length (scrypt's dkLen) other than the
 * cipher's) are a corrupt file, not an internal error, and so is an IV of the wrong size (not a
 * wrong passphrase). A PBES1
 * key at the limit, written by openssl, opens in seconds (it took over a minute).
 */
import assert from "node:assert/strict";
import { assertOneLineRefusal, certroleWithin, pbes1Key, pbkdf2Key, scryptKey } from "./support/hostile_files.ts";
import { openssl, tempDir } from "./support/run.ts";

const dir = await tempDir();
const cert = `${dir}/cert.pem`;
const plainKey = `${dir}/plain-key.pem`;
await openssl([
  "req",
  "-x509",
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:P-256",
  "-noenc",
  "-keyout",
  plainKey,
  "-out",
  cert,
  "-subj",
  "/CN=kdf-limits",
  "-days",
  "2",
]);

async function refuse(name: string, pem: string, pattern: RegExp): Promise<void> {
  const key = `${dir}/${name}.pem`;
  await Deno.writeTextFile(key, pem);
  const result = await certroleWithin(60_000, {
    ROLESANYWHERE_CERT_LOCATION: cert,
    ROLESANYWHERE_KEY_LOCATION: key,
    ROLESANYWHERE_KEY_PASSPHRASE: "anything",
  });
  const line = assertOneLineRefusal(result, pattern);
  assert.ok(line.includes(`"${key}"`), `names the file: ${line}`);
  assert.ok(result.seconds < 20, `refused in ${result.seconds} s`);
}

/** Waits for every run (none left behind), then fails on the first that failed. */
async function all(checks: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(checks);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Refused for cost: the parameter and the limit, then how to fix it. */
function over(detail: RegExp): RegExp {
  return new RegExp(`is refused: its ${detail.source}.*; re-encrypt it with OpenSSL's defaults`);
}

Deno.test("PBKDF2, PBES1 and scrypt parameters above the limits are refused at once, naming parameter and limit", async () => {
  await all([
    refuse(
      "pbkdf2-2e31",
      pbkdf2Key(2n ** 31n - 1n),
      over(/PBKDF2 iteration count 2147483647 is above certrole's limit of 10000000/),
    ),
    refuse(
      "pbkdf2-limit-plus-one",
      pbkdf2Key(10_000_001n),
      over(/PBKDF2 iteration count 10000001 is above .* 10000000/),
    ),
    refuse("pbkdf2-2e32", pbkdf2Key(2n ** 32n), over(/PBKDF2 iteration count 4294967296 is above/)),
    refuse("pbkdf2-2e64", pbkdf2Key(2n ** 64n), over(/PBKDF2 iteration count 18446744073709551616 is above/)),
    refuse(
      "pbes1-2e31",
      pbes1Key(2n ** 31n - 1n),
      over(/PBES1 iteration count 2147483647 is above certrole's limit of 1000000/),
    ),
    refuse("scrypt-2e24", scryptKey(2n ** 24n, 8n, 1n), over(/scrypt cost N 16777216 is above certrole's limit/)),
    refuse(
      "scrypt-2e20",
      scryptKey(2n ** 20n, 8n, 1n),
      over(/scrypt N=1048576 r=8 p=1 needs 1024 MiB \(128·N·r·p bytes\), above certrole's limit of 256 MiB/),
    ),
    // p multiplies the work, not the memory: 16 MiB of memory, used 1024 times over.
    refuse("scrypt-p", scryptKey(2n ** 14n, 8n, 1024n), over(/scrypt N=16384 r=8 p=1024 needs 16384 MiB/)),
  ]);
});

Deno.test("KDF parameters no KDF accepts are a corrupt key file, not an internal error", async () => {
  const corrupt = (detail: string) => new RegExp(`is corrupt \\(the encrypted key is malformed: ${detail}\\)`);
  await all([
    refuse("pbkdf2-0", pbkdf2Key(0n), corrupt("PBKDF2 iteration count is 0, not a positive number")),
    refuse(
      "pbkdf2-negative",
      pbkdf2Key(Uint8Array.of(0xff)),
      corrupt("PBKDF2 iteration count is -1, not a positive number"),
    ),
    refuse("pbes1-0", pbes1Key(0n), corrupt("PBES1 iteration count is 0, not a positive number")),
    refuse("scrypt-n3", scryptKey(3n, 8n, 1n), corrupt("scrypt cost N 3 is not a power of 2 above 1")),
    refuse("scrypt-n1", scryptKey(1n, 8n, 1n), corrupt("scrypt cost N 1 is not a power of 2 above 1")),
    refuse("scrypt-r0", scryptKey(16384n, 0n, 1n), corrupt("scrypt block size r is 0, not a positive number")),
    refuse("scrypt-p0", scryptKey(16384n, 8n, 0n), corrupt("scrypt parallelization p is 0, not a positive number")),
    refuse(
      "scrypt-n-too-big-for-r",
      scryptKey(65536n, 1n, 1n),
      corrupt("scrypt cost N 65536 is not below 2\\^\\(16·r\\) for block size r 1"),
    ),
    refuse("pbkdf2-empty-count", pbkdf2Key(new Uint8Array(0)), corrupt("empty INTEGER")),
    // The optional key length (scrypt's dkLen) must be the cipher's: it was ignored ("wrong passphrase").
    refuse(
      "scrypt-dklen-0",
      scryptKey(16384n, 8n, 1n, 0n),
      corrupt("scrypt key length 0 does not match aes-256-cbc's 32-byte key"),
    ),
    refuse(
      "scrypt-dklen-16",
      scryptKey(16384n, 8n, 1n, 16n),
      corrupt("scrypt key length 16 does not match aes-256-cbc's 32-byte key"),
    ),
    refuse(
      "scrypt-dklen-huge",
      scryptKey(16384n, 8n, 1n, 2n ** 200n),
      corrupt("scrypt key length \\(a 26-byte number\\) does not match aes-256-cbc's 32-byte key"),
    ),
    refuse(
      "pbkdf2-keylength-0",
      pbkdf2Key(2048n, 16, 0n),
      corrupt("PBKDF2 key length 0 does not match aes-256-cbc's 32-byte key"),
    ),
    // Not a KDF parameter, but read beside them: an IV of the wrong size was "wrong passphrase".
    refuse("iv-8-bytes", pbkdf2Key(2048n, 8), corrupt("the aes-256-cbc IV is 8 bytes, not 16")),
  ]);
  // An INTEGER of 300 KB as the iteration count: read in linear time (it took about a minute).
  await refuse(
    "pbkdf2-300k-integer",
    pbkdf2Key(new Uint8Array(300_000).fill(0x7f)),
    /PBKDF2 iteration count \(a 300000-byte number\) is above/,
  );
});

Deno.test("a PBES1 key at the limit (1,000,000 iterations), written by openssl, opens", async () => {
  const key = `${dir}/pbes1-limit.pem`;
  await openssl([
    "pkcs8",
    "-topk8",
    "-in",
    plainKey,
    "-v1",
    "PBE-SHA1-3DES",
    "-iter",
    "1000000",
    "-passout",
    "pass:right",
    "-out",
    key,
  ]);
  const result = await certroleWithin(30_000, {
    ROLESANYWHERE_CERT_LOCATION: cert,
    ROLESANYWHERE_KEY_LOCATION: key,
    ROLESANYWHERE_KEY_PASSPHRASE: "right",
  });
  assert.match(
    result.stderr,
    /CreateSession at http:\/\/127\.0\.0\.1:9 failed/,
    "the key opened; only the network failed",
  );
});
