/**
 * Renders the container images' Dockerfiles: Dockerfile.template filled in for each variant of
 * images/variants.json with its entrypoint spec from entrypoints/<name>.json, as docker-library's
 * apply-templates does. Pure: the caller reads the files and writes images/<variant>/Dockerfile.
 *
 * @example
 * ```ts
 * const files = renderImages({ template, variantsJson, entrypoints: { "aws-cli": text } }, { version: "0.1.0", permissions: ["--allow-env"] });
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
  readonly baseImage: string;
  readonly entrypoint: string;
  readonly title: string;
  readonly description: string;
  readonly sdk?: SdkInstall;
  readonly notes: readonly string[];
}

export interface EntrypointSpec {
  /** What `certrole exec --` runs before the container's CMD (["aws"]), or nothing (the CMD is the command). */
  readonly wraps: readonly string[];
  readonly cmd: readonly string[];
  readonly stopSignal: string;
  readonly stopSignalReason: string;
  readonly env: Readonly<Record<string, string>>;
  readonly files: readonly { readonly source: string; readonly target: string }[];
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
export const IMAGE_USER = "65532:65532";

function specError(where: string, message: string): CertroleError {
  return new CertroleError("ImageSpecError", `${where}: ${message}`, 1);
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

export function parseVariants(
  source: string,
  where = "images/variants.json",
): { denoImage: string; variants: Variant[] } {
  const file = parseJson(source, where);
  const denoImage = text(file.denoImage, where, "denoImage");
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
    return {
      name,
      baseImage: text(raw.baseImage, at, "baseImage"),
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

export function parseEntrypoint(source: string, where: string): EntrypointSpec {
  const file = parseJson(source, where);
  const env = file.env === undefined ? {} : file.env;
  if (!env || typeof env !== "object" || Array.isArray(env)) throw specError(where, `"env" must be an object`);
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw specError(where, `environment variable name "${name}" is not valid`);
    if (typeof value !== "string") throw specError(where, `environment variable ${name} must be a string`);
  }
  const files = file.files === undefined ? [] : file.files;
  if (!Array.isArray(files)) throw specError(where, `"files" must be a list`);
  const stopSignal = text(file.stopSignal, where, "stopSignal");
  if (!SIGNAL.test(stopSignal)) throw specError(where, `stopSignal "${stopSignal}" must be a signal name like SIGTERM`);
  return {
    wraps: stringList(file.wraps ?? [], where, "wraps"),
    cmd: stringList(file.cmd, where, "cmd"),
    stopSignal,
    stopSignalReason: text(file.stopSignalReason, where, "stopSignalReason"),
    env: env as Record<string, string>,
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

/**
 * Why a base image cannot run certrole, or undefined when nothing is known against it. Deno's
 * Linux binaries are linked against glibc 2.27 or later: musl (Alpine), libc-less and
 * older-glibc bases fail at run time with a bare "not found".
 */
export function baseImageProblem(image: string): string | undefined {
  const reference = image.toLowerCase();
  const [, name = reference, tag = "latest"] = reference.match(/^(.*?)(?::([^:/@]+))?(?:@.*)?$/) ?? [];
  if (/alpine|musl/.test(reference)) return "is musl-based (Alpine): Deno's binaries need glibc";
  if (name === "scratch" || /distroless\/static/.test(name)) return "has no C library: Deno's binaries need glibc";
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

export function renderDockerfile(
  template: string,
  denoImage: string,
  variant: Variant,
  entrypoint: EntrypointSpec,
  options: RenderOptions,
): string {
  const problem = baseImageProblem(variant.baseImage);
  if (problem) {
    throw new CertroleError(
      "UnsupportedBaseImage",
      `variant ${variant.name}: base image ${variant.baseImage} ${problem}; choose a glibc base (Debian, Ubuntu, Amazon Linux 2023, distroless/base)`,
    );
  }
  const header = [
    "# GENERATED FILE, DO NOT EDIT: `certrole image render` writes it from Dockerfile.template,",
    `# images/variants.json and entrypoints/${variant.entrypoint}.json; edit those and run \`make images\`.`,
    "#",
    ...wrapComment(`${variant.title} ${options.version}: ${variant.description}.`),
    "",
  ].join("\n");
  const sdk = variant.sdk;
  const env = [
    `HOME=${IMAGE_HOME}`,
    ...Object.entries(entrypoint.env).map(([name, value]) => `${name}=${dockerfileQuote(value)}`),
  ];
  const labels = [
    `org.opencontainers.image.title=${dockerfileQuote(variant.title)}`,
    `org.opencontainers.image.description=${dockerfileQuote(variant.description)}`,
    `org.opencontainers.image.version=${dockerfileQuote(options.version)}`,
    `org.opencontainers.image.base.name="\${BASE_IMAGE}"`,
    `org.opencontainers.image.revision="\${REVISION}"`,
    `org.opencontainers.image.created="\${CREATED}"`,
  ];
  return fillTemplate(template, {
    header,
    variant: variant.name,
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
    stopSignalReason: wrapComment(entrypoint.stopSignalReason).join("\n"),
    stopSignal: entrypoint.stopSignal,
    entrypoint: execForm([CERTROLE_PATH, "exec", "--", ...entrypoint.wraps]),
    cmd: execForm(entrypoint.cmd),
  }).trimEnd() + "\n";
}

/** Every variant's Dockerfile, in images/variants.json's order. */
export function renderImages(inputs: ImageInputs, options: RenderOptions): RenderedFile[] {
  const { denoImage, variants } = parseVariants(inputs.variantsJson);
  return variants.map((variant) => {
    const source = inputs.entrypoints[variant.entrypoint];
    const where = `entrypoints/${variant.entrypoint}.json`;
    if (source === undefined) throw specError(`variant ${variant.name}`, `${where} does not exist`);
    return {
      path: `images/${variant.name}/Dockerfile`,
      content: renderDockerfile(inputs.template, denoImage, variant, parseEntrypoint(source, where), options),
    };
  });
}
