/**
 * Building certrole's images without a container registry, with podman: the podman configuration
 * our hosts need, a Debian bookworm minbase made with debootstrap and imported, and local
 * stand-ins for the variants' bases and for the Deno build image (local-bases/*.Dockerfile: the
 * runtime and SDK from Debian's packages, Deno and the node SDK from the npm registry). Used by
 * `make images-offline` (scripts/images.ts --local-bases) and the image tests, so both build the
 * same way. Everything is cached under CERTROLE_IMAGES_DIR (default /var/tmp/certrole-images),
 * outside the clone: reruns reuse the base tarball and the layers.
 *
 * What it still needs from outside: Debian's package mirror (debootstrap's default, or
 * DEBIAN_MIRROR for a local one) and the npm registry, with the host's CA bundle (SSL_CERT_FILE,
 * else /etc/ssl/certs/ca-certificates.crt) handed to the builds for a TLS-inspecting proxy.
 */

export const STATE_DIR = Deno.env.get("CERTROLE_IMAGES_DIR") ?? "/var/tmp/certrole-images";
export const DEBIAN_IMAGE = "localhost/certrole-local/debian:bookworm";
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const LOCAL_BASES_DIR = `${ROOT}/local-bases`;

/** The local base each variant gets instead of its registry base, and the Deno build image's stand-in. */
export const LOCAL_BASES: Readonly<Record<string, string>> = {
  "aws-cli": "debian-awscli",
  python: "debian-python",
  node: "debian-node",
  ruby: "debian-ruby",
  sidecar: "debian-slim",
};
export const LOCAL_DENO_BUILDER = "deno-builder";

export function localBaseImage(name: string): string {
  return `localhost/certrole-local/${name}:bookworm`;
}

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  const output = await new Deno.Command(command, { args: [...args], env, stdin: "null" }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/**
 * containers.conf for our hosts: runc (crun fails on their cgroup setup), cgroupfs, the host's
 * network (builds and containers reach servers on the host's 127.0.0.1), and default ulimits
 * within the host's hard limit (podman's default nofile exceeds it, and every container fails).
 */
export async function containersConf(): Promise<string> {
  const hard = (await run("sh", ["-c", "ulimit -Hn"])).stdout.trim();
  const nofile = hard === "unlimited" ? 20000 : Math.min(20000, Number(hard) || 1024);
  return [
    "[containers]",
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]`,
    `netns = "host"`,
    "[engine]",
    `runtime = "runc"`,
    `cgroup_manager = "cgroupfs"`,
    "",
  ].join("\n");
}

async function writeIfChanged(path: string, text: string): Promise<void> {
  const current = await Deno.readTextFile(path).catch(() => "");
  if (current !== text) await Deno.writeTextFile(path, text);
}

/**
 * podman's environment: CONTAINERS_CONF and CONTAINERS_STORAGE_CONF as given in `from` (a user's
 * own), else files under STATE_DIR (storage in STATE_DIR/storage).
 */
export async function podmanEnv(from: Readonly<Record<string, string | undefined>> = {}): Promise<
  Record<string, string>
> {
  await Deno.mkdir(STATE_DIR, { recursive: true });
  const conf = from.CONTAINERS_CONF || `${STATE_DIR}/containers.conf`;
  const storage = from.CONTAINERS_STORAGE_CONF || `${STATE_DIR}/storage.conf`;
  if (!from.CONTAINERS_CONF) await writeIfChanged(conf, await containersConf());
  if (!from.CONTAINERS_STORAGE_CONF) {
    await writeIfChanged(
      storage,
      [
        "[storage]",
        `driver = "overlay"`,
        `runroot = "${STATE_DIR}/run"`,
        `graphroot = "${STATE_DIR}/storage"`,
        "",
      ].join("\n"),
    );
  }
  return { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage };
}

export class LocalImageError extends Error {}

async function podmanOk(args: readonly string[], env: Record<string, string>): Promise<string> {
  const result = await run("podman", args, env);
  if (result.code !== 0) {
    throw new LocalImageError(
      `podman ${args.slice(0, 2).join(" ")} exited ${result.code}:\n${lastLines(result.stdout + result.stderr, 30)}`,
    );
  }
  return result.stdout;
}

/** The last `count` non-empty lines of a build's output: what explains a failure. */
export function lastLines(text: string, count: number): string {
  return text.split("\n").filter((line) => line.trim() !== "").slice(-count).join("\n");
}

async function requirePodman(env: Record<string, string>): Promise<void> {
  let info: Result;
  try {
    info = await run("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"], env);
  } catch {
    throw new LocalImageError("podman is not installed: apt-get install podman buildah runc debootstrap uidmap");
  }
  if (info.code !== 0) throw new LocalImageError(`podman does not work here: ${info.stderr.trim().split("\n")[0]}`);
}

/** Debian bookworm minbase: debootstrap once, keep the tarball, import it when the image is missing. */
export async function ensureDebian(env: Record<string, string>, log: (line: string) => void = () => {}): Promise<void> {
  await requirePodman(env);
  if ((await run("podman", ["image", "exists", DEBIAN_IMAGE], env)).code === 0) return;
  const tarball = `${STATE_DIR}/debian-bookworm-minbase.tar`;
  if (!(await Deno.stat(tarball).catch(() => undefined))) {
    const rootfs = `${STATE_DIR}/rootfs-${crypto.randomUUID()}`;
    // No mirror named: debootstrap's own default, unless the site has its own (DEBIAN_MIRROR).
    const mirror = Deno.env.get("DEBIAN_MIRROR");
    log(`debootstrap --variant=minbase bookworm${mirror ? ` (mirror ${mirror})` : ""} (about a minute)`);
    const strap = await run("debootstrap", ["--variant=minbase", "bookworm", rootfs, ...(mirror ? [mirror] : [])]);
    if (strap.code !== 0) {
      throw new LocalImageError(`debootstrap failed:\n${lastLines(strap.stdout + strap.stderr, 30)}`);
    }
    // What a slim image would not carry: downloaded packages and package lists.
    await run("sh", ["-c", `rm -rf "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/lib/apt/lists/*`]);
    const tar = await run("tar", ["-C", rootfs, "-cf", `${tarball}.partial`, "."]);
    if (tar.code !== 0) throw new LocalImageError(`tar failed: ${tar.stderr}`);
    await Deno.rename(`${tarball}.partial`, tarball);
    await Deno.remove(rootfs, { recursive: true });
  }
  log(`podman import ${tarball}`);
  await podmanOk(["import", "--change", 'CMD ["bash"]', tarball, DEBIAN_IMAGE], env);
}

/** A build context holding the host's CA bundle (for npm and Deno behind a TLS-inspecting proxy). */
async function caContext(): Promise<string> {
  const context = `${STATE_DIR}/context`;
  await Deno.mkdir(context, { recursive: true });
  const bundle = Deno.env.get("SSL_CERT_FILE") || "/etc/ssl/certs/ca-certificates.crt";
  const pem = await Deno.readTextFile(bundle).catch(() => "");
  await writeIfChanged(`${context}/host-ca.pem`, pem);
  return context;
}

export const LOCAL_BUILD_FLAGS = ["--pull=never", "--network", "host", "--layers"];

/** Builds local-bases/<name>.Dockerfile on the Debian base; returns its tag. */
export async function buildLocalBase(name: string, env: Record<string, string>): Promise<string> {
  const tag = localBaseImage(name);
  await podmanOk(
    ["build", ...LOCAL_BUILD_FLAGS, "-f", `${LOCAL_BASES_DIR}/${name}.Dockerfile`, "-t", tag, await caContext()],
    env,
  );
  return tag;
}
