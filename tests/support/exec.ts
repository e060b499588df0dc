/** Running `certrole exec` as a real child process, and the settings for runs that need no emulator. */
import type { Leaf } from "./pki.ts";
import { baseEnv, certroleArgv } from "./run.ts";

export interface Spawned {
  readonly child: Deno.ChildProcess;
  /** Lines of stdout as they arrive. */
  readonly lines: AsyncIterableIterator<string>;
}

/** Spawns certrole with piped stdio; the caller reads stdout line by line and waits for the status. */
export function spawnCertrole(args: readonly string[], env: Record<string, string>): Spawned {
  const [command, ...prefix] = certroleArgv();
  const child = new Deno.Command(command, {
    args: [...prefix, ...args],
    env: { ...baseEnv(), ...env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())[Symbol.asyncIterator]();
  return { child, lines };
}

function splitLines(): TransformStream<string, string> {
  let buffer = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const part of parts) controller.enqueue(part);
    },
    flush(controller) {
      if (buffer) controller.enqueue(buffer);
    },
  });
}

/** Well-formed ARNs for runs that never reach CreateSession (no preflight, or a local check fails first). */
export const OFFLINE_ARNS = {
  ROLESANYWHERE_TRUST_ANCHOR_ARN:
    "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a1b2c3d4-0000-4000-8000-000000000001",
  ROLESANYWHERE_PROFILE_ARN:
    "arn:aws:rolesanywhere:us-east-1:123456789012:profile/a1b2c3d4-0000-4000-8000-000000000002",
  ROLESANYWHERE_ROLE_ARN: "arn:aws:iam::123456789012:role/bucket-lister",
} as const;

/** A real identity: HOME, the leaf's files (and its passphrase, unless `passphrase` is false), the ARNs. */
function identityEnv(leaf: Leaf, home: string, passphrase = true): Record<string, string> {
  return {
    HOME: home,
    ROLESANYWHERE_CERT_LOCATION: leaf.cert,
    ROLESANYWHERE_KEY_LOCATION: leaf.key,
    ...(leaf.passphrase && passphrase ? { ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase } : {}),
    ...OFFLINE_ARNS,
  };
}

/** `certrole exec` with the local checks on a real identity and the network preflight off. */
export function offlineExecEnv(leaf: Leaf, home: string): Record<string, string> {
  return { ...identityEnv(leaf, home), ROLESANYWHERE_PREFLIGHT: "false" };
}

/**
 * credential-process on a real identity, one call: no cache, one attempt, at `endpoint`. The
 * leaf's passphrase is in the environment unless `passphrase: false` (a test gives it another way).
 */
export function singleCallEnv(
  leaf: Leaf,
  home: string,
  endpoint: string,
  options: { passphrase?: boolean } = {},
): Record<string, string> {
  return {
    ...identityEnv(leaf, home, options.passphrase !== false),
    ROLESANYWHERE_NO_CACHE: "1",
    AWS_MAX_ATTEMPTS: "1",
    ROLESANYWHERE_ENDPOINT: endpoint,
  };
}
