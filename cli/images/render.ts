/**
 * Renders Dockerfiles from Dockerfile.template, the one source of every Dockerfile certrole
 * makes: our images (each variant of images/variants.json with its entrypoint spec from
 * entrypoints/<name>.json, as docker-library's apply-templates does) and the Dockerfile
 * `certrole image dockerfile` prints for a user's own base (an ad-hoc variant: their base, one of
 * the same entrypoint specs, no SDK). Pure: the callers read the files and write the output.
 *
 * @example
 * ```ts
 * const files = renderImages({
 *   template: await Deno.readTextFile("Dockerfile.template"),
 *   variantsJson: await Deno.readTextFile("images/variants.json"),
 *   entrypoints: { "aws-cli": await Deno.readTextFile("entrypoints/aws-cli.json") },
 * }, { version: "0.1.0", permissions: ["--allow-env"] });
 * files[0].path; // "images/aws-cli/Dockerfile"
 * ```
 */
import { CertroleError } from "../errors.ts";

export interface SdkInstall {
  /** Default of the SDK_PACKAGES build argument. */
  readonly packages: string;
  /** Shell command run when SDK_PACKAGES is not empty; uses ${SDK_PACKAGES}. */
  readonly install: string;
}

export interface Variant {
  readonly name: string;
  /** Fully qualified (docker.io/library/python:3.13-slim-bookworm): podman refuses short names. */
  readonly baseImage: string;
  readonly entrypoint: string;
  /** The OCI title label; images built from `certrole image dockerfile` are the user's and have none. */
  readonly title?: string;
  readonly description: string;
  readonly sdk?: SdkInstall;
  readonly notes: readonly string[];
}

/**
 * How `certrole exec` runs the command: "replace" (execve: the command becomes PID 1) or
 * "supervise" (`exec --supervise`: certrole stays PID 1, forwards signals and reaps).
 */
export type ExecMode = "replace" | "supervise";
export const EXEC_MODES: readonly ExecMode[] = ["replace", "supervise"];

export interface StopSignal {
  readonly signal: string;
  /** Why this signal stops the command: the comment above STOPSIGNAL. */
  readonly reason: string;
}

/** What one exec mode adds to a spec: its STOPSIGNAL and its own environment. */
export interface ModeSpec {
  readonly stop: StopSignal;
  readonly env: Readonly<Record<string, string>>;
}

export interface EntrypointSpec {
  /**
   * certrole's arguments when the entrypoint is not `exec` (e.g. ["serve"] for a sidecar);
   * undefined: `exec [--supervise] -- WRAPS...`.
   */
  readonly certrole?: readonly string[];
  /** The mode the spec runs in (its default, or the one `inMode` chose). */
  readonly mode: ExecMode;
  /** What `certrole exec --` runs before the container's CMD (["aws"]), or nothing (the CMD is the command). */
  readonly wraps: readonly string[];
  /** The default CMD; empty: no CMD line. */
  readonly cmd: readonly string[];
  /** STOPSIGNAL in the current mode. */
  readonly stop: StopSignal;
  /** The environment in the current mode: the spec's own, then its mode's. */
  readonly env: Readonly<Record<string, string>>;
  readonly files: readonly { readonly source: string; readonly target: string }[];
  /** Each mode's STOPSIGNAL and environment (an exec spec knows both; a `certrole` spec has none). */
  readonly modes?: Readonly<Record<ExecMode, ModeSpec>>;
  /** The environment common to both modes. */
  readonly commonEnv: Readonly<Record<string, string>>;
}

export interface ImageInputs {
  readonly template: string;
  readonly variantsJson: string;
  /** Entrypoint spec texts by name (entrypoints/<name>.json). */
  readonly entrypoints: Readonly<Record<string, string>>;
}

export interface RenderOptions {
  readonly version: string;
  /** certrole's Deno permission flags, given to `deno compile`. */
  readonly permissions: readonly string[];
}

export interface RenderedFile {
  readonly path: string;
  readonly content: string;
}

/** Where certrole sits in every image, in both build modes. */
export const CERTROLE_PATH = "/usr/local/bin/certrole";
export const IMAGE_HOME = "/home/certrole";
/** The numeric user the images run as (no passwd entry); group 0 also owns HOME. */
export const IMAGE_UID = 65532;
export const IMAGE_USER = `${IMAGE_UID}:${IMAGE_UID}`;

function specError(where: string, message: string): CertroleError {
  return new CertroleError("ImageSpecError", `${where}: ${message}`);
}

function text(value: unknown, where: string, field: string): string {
  if (typeof value !== "string" || value.trim() === "") throw specError(where, `"${field}" must be a non-empty string`);
  return value;
}

function stringList(value: unknown, where: string, field: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw specError(where, `"${field}" must be a list of strings`);
  }
  return value;
}

function parseJson(source: string, where: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw specError(where, `not valid JSON (${error instanceof Error ? error.message : error})`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw specError(where, "must be a JSON object");
  return parsed as Record<string, unknown>;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLAIN_PATH = /^[A-Za-z0-9_./-]+$/;

/**
 * Why an image reference is not fully qualified, or undefined when it is. Podman (and buildah)
 * refuse a short name such as `python:3.13` unless a short-name configuration resolves it; a
 * registry host (with a dot or a port) or `localhost` first makes the name mean one image everywhere.
 */
export function shortNameProblem(image: string): string | undefined {
  const slash = image.indexOf("/");
  const first = slash < 0 ? "" : image.slice(0, slash);
  if (first === "localhost" || /[.:]/.test(first)) return undefined;
  const suggestion = slash < 0 ? `docker.io/library/${image}` : `docker.io/${image}`;
  return `"${image}" is a short name, which podman refuses without a short-name configuration: ` +
    `name the registry (${suggestion})`;
}

export function parseVariants(
  source: string,
  where = "images/variants.json",
): { denoImage: string; variants: Variant[] } {
  const file = parseJson(source, where);
  const denoImage = text(file.denoImage, where, "denoImage");
  const denoProblem = shortNameProblem(denoImage);
  if (denoProblem) throw specError(where, `denoImage ${denoProblem}`);
  if (!Array.isArray(file.variants) || file.variants.length === 0) throw specError(where, `"variants" must be a list`);
  const seen = new Set<string>();
  const variants = file.variants.map((raw: Record<string, unknown>, index: number): Variant => {
    const at = `${where} variant ${index + 1}`;
    const name = text(raw?.name, at, "name");
    if (!NAME.test(name)) throw specError(at, `name "${name}" must be lowercase letters, digits and dashes`);
    if (seen.has(name)) throw specError(at, `name "${name}" appears twice`);
    seen.add(name);
    let sdk: SdkInstall | undefined;
    if (raw.sdk !== undefined) {
      const sdkRaw = raw.sdk as Record<string, unknown>;
      const install = text(sdkRaw?.install, `${at} sdk`, "install");
      if (!install.includes("${SDK_PACKAGES}")) throw specError(`${at} sdk`, `"install" must use \${SDK_PACKAGES}`);
      sdk = { packages: text(sdkRaw.packages, `${at} sdk`, "packages"), install };
    }
    const baseImage = text(raw.baseImage, at, "baseImage");
    const baseProblem = shortNameProblem(baseImage);
    if (baseProblem) throw specError(at, `baseImage ${baseProblem}`);
    return {
      name,
      baseImage,
      entrypoint: text(raw.entrypoint ?? name, at, "entrypoint"),
      title: text(raw.title, at, "title"),
      description: text(raw.description, at, "description"),
      sdk,
      notes: raw.notes === undefined ? [] : stringList(raw.notes, at, "notes"),
    };
  });
  return { denoImage, variants };
}

const SIGNAL = /^SIG[A-Z0-9]+$/;

function stopSignal(signal: unknown, reason: unknown, where: string, prefix: string): StopSignal {
  const name = text(signal, where, `${prefix}stopSignal`);
  if (!SIGNAL.test(name)) throw specError(where, `${prefix}stopSignal "${name}" must be a signal name like SIGTERM`);
  return { signal: name, reason: text(reason, where, `${prefix}stopSignalReason`) };
}

function environment(value: unknown, where: string, field: string): Record<string, string> {
  const env = value === undefined ? {} : value;
  if (!env || typeof env !== "object" || Array.isArray(env)) throw specError(where, `"${field}" must be an object`);
  for (const [name, text] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw specError(where, `environment variable name "${name}" is not valid`);
    if (typeof text !== "string") throw specError(where, `environment variable ${name} must be a string`);
  }
  return env as Record<string, string>;
}

/** One mode's section of an exec spec: `{"stopSignal", "stopSignalReason", "env"?}`. */
function modeSpec(value: unknown, where: string, mode: ExecMode): ModeSpec {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw specError(where, `"${mode}" must be an object with stopSignal and stopSignalReason (the ${mode} mode)`);
  }
  const section = value as Record<string, unknown>;
  return {
    stop: stopSignal(section.stopSignal, section.stopSignalReason, where, `${mode}.`),
    env: environment(section.env, where, `${mode}.env`),
  };
}

/**
 * An entrypoint spec. An exec spec describes both modes, `"replace"` and `"supervise"` (each its
 * STOPSIGNAL and the environment only that mode needs), and `"mode"` says which its images run;
 * a `"certrole"` spec (another command, e.g. serve) has one top-level stopSignal.
 */
export function parseEntrypoint(source: string, where: string): EntrypointSpec {
  const file = parseJson(source, where);
  const commonEnv = environment(file.env, where, "env");
  const files = file.files === undefined ? [] : file.files;
  if (!Array.isArray(files)) throw specError(where, `"files" must be a list`);
  const mode = file.mode ?? "replace";
  if (!EXEC_MODES.includes(mode as ExecMode)) {
    throw specError(where, `mode "${mode}" must be one of ${EXEC_MODES.join(", ")}`);
  }
  const certrole = file.certrole === undefined ? undefined : stringList(file.certrole, where, "certrole");
  if (certrole && (certrole.length === 0 || file.wraps !== undefined || file.mode !== undefined)) {
    throw specError(where, `"certrole" (a command other than exec) must be non-empty and excludes "wraps" and "mode"`);
  }
  let modes: Record<ExecMode, ModeSpec> | undefined;
  let stop: StopSignal;
  if (certrole) {
    if (file.replace !== undefined || file.supervise !== undefined) {
      throw specError(where, `"certrole" (a command other than exec) has no "replace" or "supervise" section`);
    }
    stop = stopSignal(file.stopSignal, file.stopSignalReason, where, "");
  } else {
    if (file.stopSignal !== undefined) {
      throw specError(where, `stopSignal belongs in each mode's section ("replace" and "supervise"), not at the top`);
    }
    modes = {
      replace: modeSpec(file.replace, where, "replace"),
      supervise: modeSpec(file.supervise, where, "supervise"),
    };
    stop = modes[mode as ExecMode].stop;
  }
  return {
    certrole,
    mode: mode as ExecMode,
    wraps: stringList(file.wraps ?? [], where, "wraps"),
    cmd: stringList(file.cmd ?? [], where, "cmd"),
    stop,
    env: { ...commonEnv, ...modes?.[mode as ExecMode].env },
    commonEnv,
    modes,
    files: files.map((entry: Record<string, unknown>) => {
      const source = text(entry?.source, where, "files[].source");
      const target = text(entry?.target, where, "files[].target");
      if (!PLAIN_PATH.test(source) || source.startsWith("/") || source.includes("..")) {
        throw specError(where, `file source "${source}" must be a plain path inside the source tree`);
      }
      if (!PLAIN_PATH.test(target) || !target.startsWith("/")) {
        throw specError(where, `file target "${target}" must be a plain absolute path`);
      }
      return { source, target };
    }),
  };
}

/** The spec run in the given exec mode (`image dockerfile --supervise`/`--no-supervise`): that mode's STOPSIGNAL and environment. */
export function inMode(spec: EntrypointSpec, mode: ExecMode): EntrypointSpec {
  if (!spec.modes) return spec;
  return { ...spec, mode, stop: spec.modes[mode].stop, env: { ...spec.commonEnv, ...spec.modes[mode].env } };
}

/** certrole's arguments in the ENTRYPOINT: `exec [--supervise] -- WRAPS...`, or the spec's own command. */
export function entrypointArgs(spec: EntrypointSpec): string[] {
  if (spec.certrole) return [...spec.certrole];
  return ["exec", ...(spec.mode === "supervise" ? ["--supervise"] : []), "--", ...spec.wraps];
}

/**
 * Why a base image cannot run certrole, or undefined when nothing is known against it. Deno's
 * Linux binaries are linked against glibc 2.27 or later: musl (Alpine), libc-less and
 * older-glibc bases fail at run time with a bare "not found".
 */
export function baseImageProblem(image: string): string | undefined {
  const reference = image.toLowerCase();
  const [, name = reference, tag = "latest"] = reference.match(/^(.*?)(?::([^:/@]+))?(?:@.*)?$/) ?? [];
  if (/alpine|musl/.test(reference)) return "is musl-based (Alpine): Deno's binaries need glibc";
  if (/(^|\/)scratch$/.test(name) || /distroless\/static/.test(name)) {
    return "has no C library: Deno's binaries need glibc";
  }
  if (/(^|\/)amazonlinux$/.test(name) && /^2(\.|$)/.test(tag)) {
    return "is Amazon Linux 2 (glibc 2.26): Deno's binaries need glibc 2.27 or later";
  }
  const cli = name.match(/(^|\/)amazon\/aws-cli$/) ? tag.match(/^(\d+)\.(\d+)\.(\d+)$/) : null;
  if (cli && (Number(cli[1]) < 2 || Number(cli[1]) === 2 && Number(cli[2]) < 28)) {
    return "is built on Amazon Linux 2 (glibc 2.26) before 2.28: Deno's binaries need glibc 2.27 or later";
  }
  if (/(^|\/)centos$/.test(name) && /^[67](\.|$)/.test(tag)) return "has glibc older than 2.27";
  return undefined;
}

/** A Dockerfile double-quoted word: literal, with no variable expansion. */
export function dockerfileQuote(value: string): string {
  return `"${value.replace(/[\\"$]/g, (character) => `\\${character}`)}"`;
}

/** The JSON exec form of ENTRYPOINT/CMD, spaced for reading. */
export function execForm(argv: readonly string[]): string {
  return `[${argv.map((arg) => JSON.stringify(arg)).join(", ")}]`;
}

/** Comment lines of at most `width` characters. */
export function wrapComment(text: string, width = 110): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== "#" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

function continued(lines: readonly string[]): string {
  return lines.join(" \\\n    ");
}

/**
 * Fills `{{name}}` placeholders. A line that is only a placeholder disappears when its value is
 * empty, so optional blocks leave no blank lines behind.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const lines: string[] = [];
  for (const line of template.split("\n")) {
    const alone = line.match(/^\{\{(\w+)\}\}$/);
    if (alone && values[alone[1]] === "") continue;
    lines.push(line.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const value = values[name];
      if (value === undefined) throw new CertroleError("ImageSpecError", `Dockerfile.template: unknown {{${name}}}`);
      return value;
    }));
  }
  return lines.join("\n");
}

/** What differs between one of our images and a Dockerfile printed for a user's base. */
export interface DockerfileContext {
  /** The comment block at the top (generated-file notice and what the image is). */
  readonly header: string;
  /** The worked `docker build` line in the usage comment. */
  readonly buildExample: string;
}

export function renderDockerfile(
  template: string,
  denoImage: string,
  variant: Variant,
  entrypoint: EntrypointSpec,
  options: RenderOptions,
  context: DockerfileContext,
): string {
  const problem = baseImageProblem(variant.baseImage);
  if (problem) {
    throw new CertroleError(
      "ImageSpecError",
      `variant ${variant.name}: base image ${variant.baseImage} ${problem}; choose a glibc base (Debian, Ubuntu, Amazon Linux 2023, distroless/base)`,
    );
  }
  const sdk = variant.sdk;
  const env = [
    `HOME=${IMAGE_HOME}`,
    ...Object.entries(entrypoint.env).map(([name, value]) => `${name}=${dockerfileQuote(value)}`),
  ];
  const labels = [
    ...(variant.title ? [`org.opencontainers.image.title=${dockerfileQuote(variant.title)}`] : []),
    `org.opencontainers.image.description=${dockerfileQuote(variant.description)}`,
    ...(variant.title ? [`org.opencontainers.image.version=${dockerfileQuote(options.version)}`] : []),
    `org.opencontainers.image.base.name="\${BASE_IMAGE}"`,
    `org.opencontainers.image.revision="\${REVISION}"`,
    `org.opencontainers.image.created="\${CREATED}"`,
  ];
  return fillTemplate(template, {
    header: context.header,
    buildExample: context.buildExample,
    baseImage: variant.baseImage,
    denoImage,
    permissions: options.permissions.join(" "),
    notes: variant.notes.length ? ["#", ...variant.notes.flatMap((note) => wrapComment(note))].join("\n") : "",
    sdkArgumentHelp: sdk
      ? `#   SDK_PACKAGES   what \`${
        sdk.install.split(" ").slice(0, 2).join(" ")
      }\` adds to the base, default ${sdk.packages};\n` +
        "#                  empty when the base already has the SDK"
      : "",
    sdkInstall: sdk
      ? [
        `ARG SDK_PACKAGES=${dockerfileQuote(sdk.packages)}`,
        "# hadolint ignore=SC2086,DL3013,DL3016,DL3028",
        `RUN if [ -n "\${SDK_PACKAGES}" ]; then ${sdk.install}; fi`,
      ].join("\n")
      : "",
    files: entrypoint.files.map((file) => `COPY ${file.source} ${file.target}`).join("\n"),
    env: continued(env),
    labels: continued(labels),
    stopSignalReason: wrapComment(entrypoint.stop.reason).join("\n"),
    stopSignal: entrypoint.stop.signal,
    entrypoint: execForm([CERTROLE_PATH, ...entrypointArgs(entrypoint)]),
    cmd: entrypoint.cmd.length ? `CMD ${execForm(entrypoint.cmd)}` : "",
    imageUid: String(IMAGE_UID),
    imageUser: IMAGE_USER,
  }).trimEnd() + "\n";
}

function variantContext(variant: Variant, options: RenderOptions): DockerfileContext {
  return {
    header: [
      "# GENERATED FILE, DO NOT EDIT: `certrole image render` writes it from Dockerfile.template,",
      `# images/variants.json and entrypoints/${variant.entrypoint}.json; edit those and run \`make images\`.`,
      "#",
      ...wrapComment(`${variant.title} ${options.version}: ${variant.description}.`),
      "",
    ].join("\n"),
    buildExample: `docker build -f images/${variant.name}/Dockerfile -t ${variant.title} .`,
  };
}

function entrypointOf(inputs: ImageInputs, name: string, user: string): EntrypointSpec {
  const source = Object.hasOwn(inputs.entrypoints, name) ? inputs.entrypoints[name] : undefined;
  const where = `entrypoints/${name}.json`;
  if (source === undefined) throw specError(user, `${where} does not exist`);
  return parseEntrypoint(source, where);
}

/** Every variant's Dockerfile, in images/variants.json's order. */
export function renderImages(inputs: ImageInputs, options: RenderOptions): RenderedFile[] {
  const { denoImage, variants } = parseVariants(inputs.variantsJson);
  return variants.map((variant) => ({
    path: `images/${variant.name}/Dockerfile`,
    content: renderDockerfile(
      inputs.template,
      denoImage,
      variant,
      entrypointOf(inputs, variant.entrypoint, `variant ${variant.name}`),
      options,
      variantContext(variant, options),
    ),
  }));
}

/** Every entrypoint spec a variant or a user's Dockerfile can use. */
export function entrypointNames(inputs: ImageInputs): string[] {
  return Object.keys(inputs.entrypoints).sort();
}

export interface UserDockerfileRequest {
  readonly base: string;
  /** An entrypoint spec name: aws-cli, python, node, ruby, generic. */
  readonly runtime: string;
  /** The exec mode; undefined: the spec's own. */
  readonly mode?: ExecMode;
  /** The command line that printed it, for the header. */
  readonly commandLine: string;
}

/**
 * The multi-stage Dockerfile `certrole image dockerfile` prints: our build stage, then the user's
 * base with certrole, the numeric user, HOME, STOPSIGNAL and the runtime's ENTRYPOINT, from the
 * same template and entrypoint spec as our images, without an SDK (the user's base has its own).
 */
export function renderUserDockerfile(
  inputs: ImageInputs,
  request: UserDockerfileRequest,
  options: RenderOptions,
): string {
  const shortName = shortNameProblem(request.base);
  if (shortName) throw new CertroleError("InvalidSetting", `--base ${shortName}`);
  const unsupported = baseImageProblem(request.base);
  if (unsupported) {
    throw new CertroleError(
      "UnsupportedBaseImage",
      `--base ${request.base} ${unsupported}; choose a glibc base (Debian, Ubuntu, Amazon Linux 2023, distroless/base)`,
    );
  }
  const runtimes = entrypointNames(inputs);
  if (!runtimes.includes(request.runtime)) {
    throw new CertroleError(
      "InvalidSetting",
      `--runtime must be one of ${runtimes.join(", ")} (entrypoints/*.json), not "${request.runtime}"`,
    );
  }
  const { denoImage } = parseVariants(inputs.variantsJson);
  const spec = entrypointOf(inputs, request.runtime, "--runtime");
  if (request.mode && !spec.modes) {
    throw new CertroleError(
      "InvalidSetting",
      `--runtime ${request.runtime} runs \`certrole ${
        spec.certrole?.join(" ")
      }\`, not exec: leave out --supervise/--no-supervise`,
    );
  }
  const entrypoint = request.mode ? inMode(spec, request.mode) : spec;
  const how = entrypoint.certrole
    ? `certrole ${entrypoint.certrole.join(" ")}`
    : `certrole exec${entrypoint.mode === "supervise" ? " --supervise" : ""}`;
  const variant: Variant = {
    name: request.runtime,
    baseImage: request.base,
    entrypoint: request.runtime,
    description: `${request.base} with short-lived AWS credentials from an X.509 certificate (IAM Roles Anywhere) ` +
      `through ${how}`,
    notes: ["Application images: FROM the image built from this file, then COPY the app and set CMD."],
  };
  return renderDockerfile(inputs.template, denoImage, variant, entrypoint, options, {
    header: [
      `# Written by \`${request.commandLine}\` (certrole ${options.version})`,
      `# from certrole's Dockerfile.template and entrypoints/${request.runtime}.json, the sources of its own images.`,
      "#",
      ...wrapComment(`${variant.description}.`),
      "",
    ].join("\n"),
    buildExample: "docker build -f Dockerfile.certrole -t my-image PATH_OF_CERTROLE_SOURCE",
  });
}
