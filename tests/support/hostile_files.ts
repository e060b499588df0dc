/**
 * Hostile key and certificate files for tests, and running certrole on them with a deadline:
 * encrypted-key envelopes with chosen KDF parameters (their ciphertext is junk, the KDF runs
 * first), and certificates rebuilt from an openssl one with one field replaced.
 */
import assert from "node:assert/strict";
import {
  childrenOf,
  concatBytes,
  encodedOf,
  integer,
  nullValue,
  octetString,
  oid,
  readDocument,
  sequence,
  sequenceOf,
  TAG,
  tlv,
} from "../../cli/identity/der.ts";
import { OID } from "../../cli/identity/oids.ts";
import { toPem } from "../../cli/identity/pem.ts";
import { OFFLINE_ARNS } from "./exec.ts";
import { baseEnv, certroleArgv } from "./run.ts";

/** An INTEGER with these exact content bytes (so tests can write 0, huge or non-minimal values). */
export function rawInteger(content: Uint8Array): Uint8Array {
  return tlv(0x02, content);
}

const junk = new Uint8Array(64);
const aes256 = () => sequence(oid(OID.aes256Cbc), octetString(new Uint8Array(16)));

function pem(der: Uint8Array): string {
  return toPem("ENCRYPTED PRIVATE KEY", der);
}

/**
 * PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, `iterations` as given (a number or raw INTEGER),
 * with the optional keyLength field when `keyLength` is given.
 */
export function pbkdf2Key(iterations: bigint | Uint8Array, ivLength = 16, keyLength?: bigint): string {
  const count = typeof iterations === "bigint" ? integer(iterations) : rawInteger(iterations);
  const length = keyLength === undefined ? [] : [integer(keyLength)];
  const kdf = sequence(
    oid(OID.pbkdf2),
    sequence(octetString(new Uint8Array(8)), count, ...length, sequence(oid(OID.hmacWithSHA256), nullValue())),
  );
  const aes = sequence(oid(OID.aes256Cbc), octetString(new Uint8Array(ivLength)));
  return pem(sequence(sequence(oid(OID.pbes2), sequence(kdf, aes)), octetString(junk)));
}

/** PBES2 with scrypt and AES-256-CBC; the optional keyLength (dkLen) field when `keyLength` is given. */
export function scryptKey(n: bigint, r: bigint, p: bigint, keyLength?: bigint): string {
  const length = keyLength === undefined ? [] : [integer(keyLength)];
  const kdf = sequence(
    oid(OID.scrypt),
    sequence(octetString(new Uint8Array(8)), integer(n), integer(r), integer(p), ...length),
  );
  return pem(sequence(sequence(oid(OID.pbes2), sequence(kdf, aes256())), octetString(junk)));
}

/** PBES1 pbeWithSHAAnd3-KeyTripleDES-CBC. */
export function pbes1Key(iterations: bigint): string {
  const parameters = sequence(octetString(new Uint8Array(8)), integer(iterations));
  return pem(sequence(sequence(oid(OID.pbeWithSHAAnd3KeyTripleDESCBC), parameters), octetString(junk)));
}

/**
 * A PEM certificate: `der` with TBSCertificate field `index` replaced (0 version, 1 serial,
 * 4 validity, 6 subjectPublicKeyInfo). The signature no longer verifies; parsing comes first.
 */
export function withTbsField(der: Uint8Array, index: number, replacement: Uint8Array): string {
  const [tbs, algorithm, signature] = sequenceOf(readDocument(der), "Certificate");
  const fields = childrenOf(tbs).map(encodedOf);
  fields[index] = replacement;
  return toPem("CERTIFICATE", sequence(sequence(...fields), encodedOf(algorithm), encodedOf(signature)));
}

/** The notBefore of a certificate's Validity, to build a Validity without notAfter. */
export function notBeforeOf(der: Uint8Array): Uint8Array {
  const tbs = sequenceOf(readDocument(der), "Certificate")[0];
  return encodedOf(childrenOf(childrenOf(tbs)[4])[0]);
}

/** A P-256 SubjectPublicKeyInfo whose point is not on the curve. */
export function offCurveP256PublicKey(): Uint8Array {
  return sequence(
    sequence(oid(OID.ecPublicKey), oid(OID.prime256v1)),
    tlv(TAG.BIT_STRING, concatBytes([Uint8Array.of(0, 4), new Uint8Array(64).fill(1)])),
  );
}

export interface TimedRun {
  readonly code: number;
  readonly stderr: string;
  readonly stdout: string;
  readonly seconds: number;
}

/**
 * `certrole credential-process` (or `args`) on these files, offline, killed after `limitMs`
 * (the test then fails instead of hanging for the 18 minutes a 2^31-iteration key used to take).
 */
export async function certroleWithin(
  limitMs: number,
  env: Record<string, string>,
  args: readonly string[] = ["credential-process"],
): Promise<TimedRun> {
  const [command, ...prefix] = certroleArgv();
  const started = performance.now();
  const output = await new Deno.Command(command, {
    args: [...prefix, ...args],
    env: {
      ...baseEnv(),
      ...OFFLINE_ARNS,
      ROLESANYWHERE_ENDPOINT: "http://127.0.0.1:9",
      ROLESANYWHERE_NO_CACHE: "1",
      AWS_MAX_ATTEMPTS: "1",
      ...env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(limitMs),
  }).output();
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds * 1000 < limitMs, `certrole ${args.join(" ")} was still running after ${limitMs} ms`);
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
    seconds,
  };
}

/** One line on stderr matching `pattern`, exit 1, nothing on stdout, no stack trace. */
export function assertOneLineRefusal(
  result: Pick<TimedRun, "code" | "stdout" | "stderr">,
  pattern: RegExp,
): string {
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0], /^certrole: /);
  assert.doesNotMatch(result.stderr, /internal error|\bat \S+\.ts:\d+/, "no internal error, no stack trace");
  assert.match(lines[0], pattern);
  assert.equal(result.code, 1, `exit code 1, got ${result.code}: ${result.stderr}`);
  assert.equal(result.stdout, "");
  return lines[0];
}
