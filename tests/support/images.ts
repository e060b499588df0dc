/**
 * Real container images for the image tests, without Docker or a registry: podman configured for
 * our hosts, a Debian bookworm minbase and local stand-ins for the variants' bases, all from
 * scripts/local_images.ts (what `make images-offline` uses too), and the variants built in bundle
 * mode from their committed Dockerfiles. Everything is cached under CERTROLE_IMAGES_DIR (default
 * /var/tmp/certrole-images): reruns reuse the base and the layers.
 *
 * The image tests run only when CERTROLE_IMAGE_TESTS=1 (`make test-images`, CI's image step);
 * `make test` reports them as ignored, so it stays usable without podman.
 */
import {
  buildLocalBase,
  DEBIAN_IMAGE,
  ensureDebian as ensureLocalDebian,
  LOCAL_BASES,
  LOCAL_BUILD_FLAGS,
  LOCAL_DENO_BUILDER,
  podmanEnv,
  STATE_DIR,
} from "../../scripts/local_images.ts";
import { ROOT, run, type RunResult } from "./run.ts";

export { DEBIAN_IMAGE, STATE_DIR };
const FIXTURES = `${ROOT}/tests/fixtures/images`;

/**
 * The variants the image tests build, and the deployment tests (sidecar only for them), each on its
 * local stand-in base.
 */
export const TESTED_VARIANTS = ["aws-cli", "python", "node", "ruby", "sidecar"] as const;
export type TestedVariant = typeof TESTED_VARIANTS[number];

/**
 * The tag of this clone's test images: the image storage is shared by every clone on the machine,
 * and two clones' test runs must not build over each other's images.
 */
export const TEST_TAG = `test-${
  [...ROOT].reduce((hash, character) => Math.imul(hash ^ character.charCodeAt(0), 16777619) >>> 0, 2166136261)
    .toString(16)
}`;

/** localhost/certrole-ci/NAME:TEST_TAG */
export function testImage(name: string): string {
  return `localhost/certrole-ci/${name}:${TEST_TAG}`;
}

export function variantImage(variant: TestedVariant): string {
  return testImage(`certrole-${variant}`);
}

export function appImage(variant: TestedVariant): string {
  return testImage(`${variant}-app`);
}

/** Podman's configuration files (scripts/local_images.ts): the tests' own, never the caller's. */
export function containerEnv(): Promise<Record<string, string>> {
  return podmanEnv();
}

let envPromise: Promise<Record<string, string>> | undefined;

/** podman with this module's configuration; the result is returned, not checked. */
export async function podman(
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  envPromise ??= containerEnv();
  return await run("podman", args, { env: { ...await envPromise, ...options.env }, stdin: options.stdin });
}

/** podman that must succeed; throws with its output otherwise. */
export async function podmanOk(args: readonly string[], env?: Record<string, string>): Promise<string> {
  const result = await podman(args, { env });
  if (result.code !== 0) {
    throw new Error(`podman ${args.join(" ")} exited ${result.code}:\n${result.stdout.slice(-3000)}\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Why the image tests are ignored, or undefined when they run. Only the opt-in decides: with
 * CERTROLE_IMAGE_TESTS=1 a machine without a working podman fails them (ensureDebian says why)
 * instead of passing them silently.
 */
export const IMAGE_TESTS_SKIPPED = Deno.env.get("CERTROLE_IMAGE_TESTS") === "1"
  ? undefined
  : "CERTROLE_IMAGE_TESTS is not 1 (make test-images runs them)";

/** The Debian minbase, made once (debootstrap) and imported when missing. */
export async function ensureDebian(log: (line: string) => void = () => {}): Promise<void> {
  await ensureLocalDebian(await containerEnv(), log);
}

/** Builds a local base (local-bases/<name>.Dockerfile); returns its tag. */
export async function buildFixture(name: string): Promise<string> {
  return await buildLocalBase(name, await containerEnv());
}

/** The build arguments that put a variant on its local base, with the local Deno builder and no SDK download. */
export async function localBuildArgs(variant: TestedVariant): Promise<string[]> {
  const base = await buildFixture(LOCAL_BASES[variant]);
  const builder = await buildFixture(LOCAL_DENO_BUILDER);
  return [
    "--build-arg",
    `BASE_IMAGE=${base}`,
    "--build-arg",
    `DENO_IMAGE=${builder}`,
    // The local bases already hold the SDK (and PyPI and rubygems are out of reach here).
    "--build-arg",
    "SDK_PACKAGES=",
  ];
}

/** Builds a variant in bundle mode (the default) from its committed Dockerfile, on its local base and builder. */
export async function buildVariant(variant: TestedVariant): Promise<string> {
  await podmanOk([
    "build",
    ...LOCAL_BUILD_FLAGS,
    "-f",
    `${ROOT}/images/${variant}/Dockerfile`,
    ...await localBuildArgs(variant),
    "-t",
    variantImage(variant),
    ROOT,
  ]);
  return variantImage(variant);
}

/** Builds the Dockerfile of a build context (a test application's folder) as `tag`; returns the tag. */
export async function buildContext(
  context: string,
  tag: string,
  buildArgs: Readonly<Record<string, string>>,
): Promise<string> {
  await podmanOk([
    "build",
    ...LOCAL_BUILD_FLAGS,
    ...Object.entries(buildArgs).flatMap(([name, value]) => ["--build-arg", `${name}=${value}`]),
    "-t",
    tag,
    context,
  ]);
  return tag;
}

/** The tiny application of tests/fixtures/images/<variant>-app, FROM the variant image. */
export async function buildApp(variant: TestedVariant): Promise<string> {
  return await buildContext(`${FIXTURES}/${variant}-app`, appImage(variant), { IMAGE: await buildVariant(variant) });
}

/**
 * `-e NAME=value` arguments for `run`; secrets go as `-e NAME` (the engine copies the value from
 * its own environment, which the caller passes), so they stay out of every argv.
 */
export function envArgs(env: Readonly<Record<string, string>>, secretNames: readonly string[] = []): string[] {
  return Object.entries(env).flatMap(([name, value]) =>
    secretNames.includes(name) ? ["-e", name] : ["-e", `${name}=${value}`]
  );
}

/**
 * A folder to mount at /rolesanywhere, as in the walkthrough's `-v $(pwd):/rolesanywhere`, holding
 * cert.pem and key.pem. The image runs as 65532, so the key is group-readable by 65532 (the
 * README's recipe), the folder traversable.
 */
export async function mountFolder(leaf: { cert: string; key: string }): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "certrole-mount-" });
  await Deno.copyFile(leaf.cert, `${dir}/cert.pem`);
  await Deno.copyFile(leaf.key, `${dir}/key.pem`);
  await Deno.chmod(dir, 0o755);
  await Deno.chmod(`${dir}/cert.pem`, 0o644);
  await Deno.chown(`${dir}/key.pem`, 0, 65532);
  await Deno.chmod(`${dir}/key.pem`, 0o640);
  return dir;
}

/** The walkthrough's `run` options: host network, the folder, the ROLESANYWHERE_* variables. */
export function walkthroughRunArgs(
  folder: string,
  arns: { trustAnchorArn: string; profileArn: string; roleArn: string; endpoint: string },
): string[] {
  return [
    "--network",
    "host",
    "-v",
    `${folder}:/rolesanywhere`,
    ...envArgs({
      ROLESANYWHERE_CERT_LOCATION: "/rolesanywhere/cert.pem",
      ROLESANYWHERE_KEY_LOCATION: "/rolesanywhere/key.pem",
      ROLESANYWHERE_KEY_PASSPHRASE: "",
      ROLESANYWHERE_TRUST_ANCHOR_ARN: arns.trustAnchorArn,
      ROLESANYWHERE_PROFILE_ARN: arns.profileArn,
      ROLESANYWHERE_ROLE_ARN: arns.roleArn,
      ROLESANYWHERE_ENDPOINT: arns.endpoint,
    }, ["ROLESANYWHERE_KEY_PASSPHRASE"]),
  ];
}

/** Waits (bounded) until the container's log shows `marker`: the wrapped command is running. */
type Engine = (args: string[]) => Promise<RunResult>;

export async function waitForLog(container: string, marker: string, engine: Engine = podman): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    const logs = await engine(["logs", container]);
    if ((logs.stdout + logs.stderr).includes(marker)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const logs = await engine(["logs", container]);
  throw new Error(`container ${container} never printed "${marker}":\n${logs.stdout}\n${logs.stderr}`);
}

/**
 * A TCP server that accepts connections and never answers: keeps an AWS call waiting.
 * `connected` resolves at the first connection, when the client is surely past its start-up.
 */
export function silentServer(): { port: number; connected: Promise<void>; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const { promise: connected, resolve } = Promise.withResolvers<void>();
  (async () => {
    try {
      for await (const conn of listener) {
        held.push(conn);
        resolve();
      }
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connected,
    close() {
      listener.close();
      for (const conn of held) conn.close();
    },
  };
}

/** The container's processes as [pid, user, args] rows (`podman top`). */
export async function topOf(container: string): Promise<string[][]> {
  const output = await podmanOk(["top", container, "pid", "user", "args"]);
  return output.trim().split("\n").slice(1).map((line) => {
    const [pid, user, ...args] = line.trim().split(/\s+/);
    return [pid, user, args.join(" ")];
  });
}

/** PID 1's resident and private (anonymous) memory in a running container, in KiB. */
export async function pid1Memory(container: string): Promise<{ rssKiB: number; anonKiB: number }> {
  const status = await podmanOk(["exec", container, "cat", "/proc/1/status"]);
  return {
    rssKiB: Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1]),
    anonKiB: Number(status.match(/RssAnon:\s+(\d+) kB/)?.[1]),
  };
}

/** A stopped container's exit code; throws when the engine cannot say (never a 0 read from no answer). */
export async function exitCodeOf(container: string, engine: Engine = podman): Promise<number> {
  const result = await engine(["inspect", "--format", "{{.State.ExitCode}}", container]);
  const answer = result.stdout.trim();
  if (result.code !== 0 || !/^-?\d+$/.test(answer)) {
    throw new Error(`inspect ${container} exited ${result.code}: ${answer} ${result.stderr}`);
  }
  return Number(answer);
}

/** The walkthrough's PKI for image tests: a CA, the container's certificate and one with another CN. */
export interface ImagePki {
  readonly caPem: string;
  readonly leaf: { cert: string; key: string; passphrase?: string };
  readonly folder: string;
  readonly stranger: { cert: string; key: string; passphrase?: string };
  readonly strangerFolder: string;
}

export async function makeImagePki(): Promise<ImagePki> {
  const { issueLeaf, makeCa } = await import("./pki.ts");
  const ca = await makeCa(await Deno.makeTempDir({ prefix: "certrole-image-pki-" }));
  const leaf = await issueLeaf(ca, "container");
  const stranger = await issueLeaf(ca, "stranger", { cn: "someoneElse" });
  return {
    caPem: await Deno.readTextFile(ca.cert),
    leaf,
    folder: await mountFolder(leaf),
    stranger,
    strangerFolder: await mountFolder(stranger),
  };
}

export interface RunningWalkthrough {
  readonly endpoint: string;
  /** `run` arguments of the walkthrough's line for the container's certificate (or the stranger's). */
  runArgs(who?: "container" | "stranger"): string[];
  /** The engine's environment carrying the passphrase that `-e ROLESANYWHERE_KEY_PASSPHRASE` copies. */
  secretEnv(who?: "container" | "stranger"): Record<string, string>;
}

/** Runs `body` with an emulator seeded for the walkthrough, with one bucket, listening on 127.0.0.1. */
export async function withWalkthrough(
  pki: ImagePki,
  body: (walkthrough: RunningWalkthrough) => Promise<void>,
): Promise<void> {
  const { startWalkthrough } = await import("./emulator.ts");
  const walkthrough = await startWalkthrough(pki.caPem);
  walkthrough.emulator.state.buckets["walkthrough-bucket"] = {
    name: "walkthrough-bucket",
    creationDate: "2024-01-02T03:04:05.000Z",
    owner: "test",
  };
  const endpoint = walkthrough.emulator.url;
  try {
    await body({
      endpoint,
      runArgs: (who = "container") =>
        walkthroughRunArgs(who === "container" ? pki.folder : pki.strangerFolder, { ...walkthrough, endpoint }),
      secretEnv: (who = "container") => ({
        ROLESANYWHERE_KEY_PASSPHRASE: (who === "container" ? pki.leaf : pki.stranger).passphrase!,
      }),
    });
  } finally {
    await walkthrough.emulator.close();
  }
}

/** Waits (bounded) until PID 1 of the container runs a command matching `pattern`; returns its row. */
export async function waitForPid1(container: string, pattern: RegExp): Promise<string[]> {
  let rows: string[][] = [];
  for (let attempt = 0; attempt < 120; attempt++) {
    rows = await topOf(container).catch(() => []);
    const first = rows.find(([pid]) => pid === "1");
    if (first && pattern.test(first[2])) return first;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`PID 1 of ${container} never matched ${pattern}: ${JSON.stringify(rows)}`);
}

/** `promise`, or an error naming `what` after `seconds`: no wait in these tests is unbounded. */
export async function within<T>(seconds: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A container name unique to this run. */
export function containerName(what: string): string {
  return `certrole-test-${what}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * `podman system service` on a private socket, for the docker CLI (DOCKER_HOST). Returns the
 * environment that points docker at it, and a stop function.
 */
export async function startPodmanService(): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  const socket = `${STATE_DIR}/podman-${crypto.randomUUID().slice(0, 8)}.sock`;
  const child = new Deno.Command("podman", {
    args: ["system", "service", "--time=0", `unix://${socket}`],
    env: await containerEnv(),
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const env = { DOCKER_HOST: `unix://${socket}` };
  for (let attempt = 0; attempt < 60; attempt++) {
    if (await answersPing(socket)) {
      return {
        env,
        async stop() {
          child.kill("SIGTERM");
          await child.stderr.cancel();
          await child.status;
          await Deno.remove(socket).catch(() => {});
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill("SIGKILL");
  await child.stderr.cancel();
  await child.status;
  throw new Error("podman system service did not answer GET /_ping on its socket");
}

/** True when the Docker API on `socket` answers `GET /_ping` (no docker CLI needed). */
async function answersPing(socket: string): Promise<boolean> {
  try {
    const connection = await Deno.connect({ transport: "unix", path: socket });
    try {
      await connection.write(new TextEncoder().encode("GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n"));
      const buffer = new Uint8Array(256);
      const read = await connection.read(buffer);
      return read !== null && /^HTTP\/1\.[01] 200/.test(new TextDecoder().decode(buffer.subarray(0, read)));
    } finally {
      connection.close();
    }
  } catch {
    return false;
  }
}

/** True when the docker CLI is installed (the engine behind it may be podman's service). */
export async function dockerCliInstalled(): Promise<boolean> {
  try {
    return (await run("docker", ["--version"])).code === 0;
  } catch {
    return false;
  }
}
