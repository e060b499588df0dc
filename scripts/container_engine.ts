/**
 * The container engine `make images` and `make lint` use: docker when an engine answers, else
 * podman, else buildah (or the one asked for), with the build flags each understands and the size
 * of the image it built.
 */
import $ from "dax-sh";

export type Engine = "docker" | "podman" | "buildah";
export const ENGINES: readonly Engine[] = ["docker", "podman", "buildah"];

/** True when `engine` is installed and (for docker and podman) its engine answers. */
export async function engineAnswers(engine: Engine, env: Record<string, string> = {}): Promise<boolean> {
  const probe = (engine === "buildah" ? $`buildah --version` : $`${engine} info --format json`).env(env);
  try {
    const result = await probe.noThrow().quiet().timeout("20s");
    return result.code === 0;
  } catch {
    return false;
  }
}

export async function pickEngine(forced?: string, env: Record<string, string> = {}): Promise<Engine> {
  if (forced) {
    if (!ENGINES.includes(forced as Engine)) throw new Error(`--engine must be one of ${ENGINES.join(", ")}`);
    if (!(await engineAnswers(forced as Engine, env))) throw new Error(`${forced} does not answer here`);
    return forced as Engine;
  }
  for (const engine of ENGINES) if (await engineAnswers(engine, env)) return engine;
  throw new Error("no container engine answers: install docker, podman or buildah (or start the docker engine)");
}

export interface BuildRequest {
  readonly dockerfile: string;
  readonly context: string;
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  /** e.g. "host" where builds can reach the network only through the host's namespace. */
  readonly network?: string;
  /** false: use only local images (podman/buildah --pull=never; docker never pulls unless asked). */
  readonly pull?: boolean;
}

/** The engine's argv for a build. */
export function buildArgv(engine: Engine, request: BuildRequest): string[] {
  const argv: string[] = engine === "buildah" ? ["buildah", "build", "--layers"] : [engine, "build"];
  if (engine !== "docker" && request.pull === false) argv.push("--pull=never");
  if (request.network) argv.push("--network", request.network);
  for (const [name, value] of Object.entries(request.buildArgs)) argv.push("--build-arg", `${name}=${value}`);
  for (const tag of request.tags) argv.push("-t", tag);
  argv.push("-f", request.dockerfile, request.context);
  return argv;
}

/** Environment for the engine: BuildKit prints plain step lines (the legacy builder ignores it). */
export const BUILD_ENV: Readonly<Record<string, string>> = { BUILDKIT_PROGRESS: "plain" };

/** A line of build output that marks progress: podman/buildah "STEP n/m", BuildKit "#n [stage n/m]". */
export function isProgressLine(line: string): boolean {
  return /^(\[\d+\/\d+\] )?STEP \d+\/\d+: /i.test(line) || /^#\d+ \[[^\]]+\] /.test(line);
}

/** The image's size in bytes as the engine reports it (buildah only prints it rounded). */
export async function imageSize(engine: Engine, tag: string, env: Record<string, string> = {}): Promise<number> {
  if (engine === "buildah") {
    const listed = await $`buildah images --format ${"{{.Size}}"} ${tag}`.env(env).noThrow().quiet().text();
    return parseHumanSize(listed.trim().split("\n")[0] ?? "");
  }
  const output = await $`${engine} image inspect --format ${"{{.Size}}"} ${tag}`.env(env).noThrow().quiet().text();
  const size = Number(output.trim());
  return Number.isFinite(size) && size > 0 ? size : NaN;
}

/** "543 MB" → bytes (decimal units, as podman and buildah print them). */
export function parseHumanSize(text: string): number {
  const match = text.match(/^([\d.]+)\s*([kKMGT]?B)$/);
  if (!match) return NaN;
  const scale = { B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }[match[2]] ?? NaN;
  return Number(match[1]) * scale;
}
