/**
 * What the deployment tests (`make test-deploy`) share: the images (the certrole-sidecar and
 * certrole-python variants from their committed Dockerfiles, and the test applications of
 * tests/fixtures/deploy/), a cert-manager-like PKI (ECDSA P-256 keys, not encrypted, files named
 * tls.crt, tls.key and ca.crt), and an emulator seeded for the role the manifests name, with the
 * ConfigMap a user makes from `certrole iam setup`'s env file. Builds are cached in the shared
 * podman storage under this clone's tags, as the image tests' are.
 *
 * They run only when CERTROLE_DEPLOY_TESTS=1 (`make test-deploy`, CI's deploy step).
 */
import { issueDated, issueLeaf, type Leaf, makeCa } from "./pki.ts";
import type { EmulatorOptions } from "../../cli/emulator/server.ts";
import { startWalkthrough, type Walkthrough } from "./emulator.ts";
import { buildContext, buildFixture, buildVariant, ensureDebian, testImage } from "./images.ts";
import { writeProjection } from "./atomic_writer.ts";
import { configMapFromEnvFile, type PlayedPod, playPod, removePod } from "./kube_play.ts";
import { csiVariant, loadManifests, type Manifest } from "./kubernetes_manifests.ts";
import { ROOT, run, waitFor } from "./run.ts";

export const DEPLOY_TESTS_SKIPPED = Deno.env.get("CERTROLE_DEPLOY_TESTS") === "1"
  ? undefined
  : "CERTROLE_DEPLOY_TESTS is not 1 (make test-deploy runs them)";

const FIXTURES = `${ROOT}/tests/fixtures/deploy`;

export interface DeployImages {
  readonly sidecar: string;
  readonly boto3App: string;
  readonly awsCliApp: string;
  /** FROM certrole-python: the single-container pattern's application. */
  readonly supervisedApp: string;
}

/** The Python packages boto3 needs, copied from the python3 that runs the tests (a modern boto3). */
async function copyBoto3(into: string): Promise<void> {
  const located = await run("python3", [
    "-c",
    "import boto3, botocore, s3transfer, jmespath, dateutil, urllib3, six\n" +
    "for m in (boto3, botocore, s3transfer, jmespath, dateutil, urllib3, six): print(m.__file__)",
  ]);
  if (located.code !== 0) throw new Error(`python3 cannot import boto3 and its dependencies: ${located.stderr}`);
  await Deno.mkdir(into, { recursive: true });
  for (const file of located.stdout.trim().split("\n")) {
    const source = file.endsWith("/__init__.py") ? file.slice(0, -"/__init__.py".length) : file;
    const copied = await run("cp", ["-a", source, into]);
    if (copied.code !== 0) throw new Error(`cp ${source}: ${copied.stderr}`);
  }
  await run("find", [into, "-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "{}", "+"]);
}

let images: Promise<DeployImages> | undefined;

/**
 * Where one `make test-deploy` run records the images it built: deno test runs each test file in
 * its own worker, and asking podman's layer cache again costs every file about 15 s. The run's
 * directory (CERTROLE_DEPLOY_RUN_DIR: the Makefile makes it and removes it afterwards) keeps a
 * later run from trusting an earlier build.
 */
function runRecord(): string | undefined {
  const dir = Deno.env.get("CERTROLE_DEPLOY_RUN_DIR");
  return dir ? `${dir}/images.json` : undefined;
}

/** Builds (or finds cached) every image the deployment tests play. */
export function deployImages(): Promise<DeployImages> {
  images ??= (async () => {
    const record = runRecord();
    const recorded = record && await Deno.readTextFile(record).catch(() => undefined);
    if (recorded) return JSON.parse(recorded) as DeployImages;
    const built = await buildDeployImages();
    if (record) await Deno.writeTextFile(record, JSON.stringify(built));
    return built;
  })();
  return images;
}

async function buildDeployImages(): Promise<DeployImages> {
  await ensureDebian(console.log);
  const sidecar = await buildVariant("sidecar");
  const python = await buildVariant("python");
  const context = await Deno.makeTempDir({ prefix: "certrole-deploy-images-" });
  try {
    await Deno.mkdir(`${context}/boto3`);
    await Deno.copyFile(`${FIXTURES}/boto3-app/Dockerfile`, `${context}/boto3/Dockerfile`);
    await Deno.copyFile(`${FIXTURES}/boto3-app/app.py`, `${context}/boto3/app.py`);
    await copyBoto3(`${context}/boto3/site-packages`);
    const boto3App = await buildContext(`${context}/boto3`, testImage("deploy-boto3-app"), {
      BASE: await buildFixture("debian-python"),
    });
    const awsCliApp = await buildContext(`${FIXTURES}/aws-cli-app`, testImage("deploy-aws-cli-app"), {
      BASE: await buildFixture("debian-awscli"),
    });
    await Deno.mkdir(`${context}/supervised`);
    await Deno.copyFile(`${FIXTURES}/supervised-app/Dockerfile`, `${context}/supervised/Dockerfile`);
    await Deno.copyFile(`${FIXTURES}/boto3-app/app.py`, `${context}/supervised/app.py`);
    const supervisedApp = await buildContext(`${context}/supervised`, testImage("deploy-supervised-app"), {
      IMAGE: python,
    });
    return { sidecar, boto3App, awsCliApp, supervisedApp };
  } finally {
    await Deno.remove(context, { recursive: true });
  }
}

/** The CN the shipped Certificate asks for, which the role's trust policy admits. */
export const CN = "bucket-lister";

export interface DeployPki {
  readonly dir: string;
  readonly caPem: string;
  /** A leaf as cert-manager issues it: ECDSA P-256, no passphrase. */
  issue(name: string, options?: { cn?: string }): Promise<Leaf>;
  /** A leaf whose validity ended yesterday. */
  expired(name: string): Promise<Leaf>;
}

export async function makeDeployPki(): Promise<DeployPki> {
  const dir = await Deno.makeTempDir({ prefix: "certrole-deploy-pki-" });
  const ca = await makeCa(dir, { keyType: "ec:P-256" });
  const day = (offset: number) => {
    const date = new Date(Date.now() + offset * 86_400_000);
    return date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z";
  };
  return {
    dir,
    caPem: await Deno.readTextFile(ca.cert),
    issue: (name, options = {}) =>
      issueLeaf(ca, name, {
        cn: options.cn ?? CN,
        keyType: "ec:P-256",
        passphrase: null,
        extensions: "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth",
      }),
    expired: (name) => issueDated(ca, name, day(-3), day(-1), CN),
  };
}

/** The files of a cert-manager Secret (and of csi-driver's volume) for a leaf. */
export async function certificateFiles(pki: DeployPki, leaf: Leaf): Promise<Record<string, string>> {
  return {
    "tls.crt": await Deno.readTextFile(leaf.cert),
    "tls.key": await Deno.readTextFile(leaf.key),
    "ca.crt": pki.caPem,
  };
}

export interface DeployWalkthrough {
  readonly walkthrough: Walkthrough;
  /** The ConfigMap bucket-lister-roles-anywhere, as made from `certrole iam setup --env-file`. */
  readonly configMap: Manifest;
  /** `certrole iam setup --env-file`'s lines for this role (the ConfigMap's source). */
  readonly envFile: string;
  /** The emulator's address for the applications' S3 calls. */
  readonly appEnv: Record<string, string>;
  close(): Promise<void>;
}

export const BUCKET = "fleet-bucket";

/** An emulator with the role, trust anchor (the PKI's CA) and profile, and one bucket. */
export async function startDeployWalkthrough(
  pki: DeployPki,
  options: Pick<EmulatorOptions, "throttleTps" | "throttleScope"> = {},
): Promise<DeployWalkthrough> {
  const walkthrough = await startWalkthrough(pki.caPem, { cn: CN, ...options });
  walkthrough.emulator.state.buckets[BUCKET] = {
    name: BUCKET,
    creationDate: "2024-01-02T03:04:05.000Z",
    owner: "test",
  };
  const envFile = [
    `ROLESANYWHERE_TRUST_ANCHOR_ARN=${walkthrough.trustAnchorArn}`,
    `ROLESANYWHERE_PROFILE_ARN=${walkthrough.profileArn}`,
    `ROLESANYWHERE_ROLE_ARN=${walkthrough.roleArn}`,
    `ROLESANYWHERE_ENDPOINT=${walkthrough.emulator.url}`,
  ].join("\n");
  return {
    walkthrough,
    configMap: configMapFromEnvFile("bucket-lister-roles-anywhere", envFile),
    envFile,
    appEnv: { AWS_ENDPOINT_URL: walkthrough.emulator.url },
    close: () => walkthrough.emulator.close(),
  };
}

/** A TCP port free on the host's loopback now (the pods share the host's network). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** One call a test application printed: `ok ...` or `fail ...`, with the access key it used. */
export interface Call {
  readonly ok: boolean;
  readonly line: string;
  readonly key?: string;
}

/** The `ok ...` and `fail ...` lines the test applications print, in order. */
export function callLines(log: string): Call[] {
  return log.split("\n").filter((line) => /^(ok|fail) /.test(line)).map((line) => ({
    ok: line.startsWith("ok "),
    line,
    key: line.match(/ key=(\S+)/)?.[1],
  }));
}

/** How often the deployment tests poll a pod or the emulator (each look at a pod is a podman call). */
export const POLL_MS = 250;

/**
 * Waits (at most `seconds`) until the calls in an application's log satisfy `enough`; returns
 * those calls.
 */
export function waitForCalls(
  what: string,
  seconds: number,
  log: () => Promise<string>,
  enough: (calls: Call[]) => boolean,
): Promise<Call[]> {
  return waitFor(
    async () => {
      const calls = callLines(await log());
      return enough(calls) ? calls : undefined;
    },
    seconds * 1000,
    what,
    POLL_MS,
  );
}

/** What a pod test works with, set up by withPod. */
export interface PodTest {
  readonly images: DeployImages;
  readonly pki: DeployPki;
  readonly emulator: DeployWalkthrough;
  /** The leaf first projected into the certificate volume. */
  readonly leaf: Leaf;
  /**
   * deploy/kubernetes/PATTERN/deployment.yaml filled in with this run's images, as a user fills it;
   * with `csi`, its csi-driver variant (cert-manager's csi-volume patch applied).
   */
  deployment(pattern: string, app: keyof DeployImages, options?: { csi?: boolean }): Promise<Manifest>;
  /** Plays a Deployment with the emulator's ConfigMap and the certificate volume; removed after the test. */
  play(deployment: Manifest, options?: { startupWaitSeconds?: number }): Promise<PlayedPod>;
  /** Projects a leaf's files into the certificate volume (one ..data swap, as a rotation). */
  project(leaf: Leaf): Promise<void>;
}

/** The container user of every image: the projected files are owned by it, as fsGroup makes them. */
const POD_UID = 65532;

/**
 * The set-up every pod test shares: images, a cert-manager-like PKI with one leaf (pki.issue("app")
 * unless `leaf` says otherwise) projected into the certificate volume, and an emulator seeded for
 * the manifests' role. Runs `body`, then removes the pod it played and stops the emulator.
 */
export async function withPod(
  setup: {
    readonly leaf?: (pki: DeployPki) => Promise<Leaf>;
    readonly emulator?: Parameters<typeof startDeployWalkthrough>[1];
  },
  body: (test: PodTest) => Promise<void>,
): Promise<void> {
  const images = await deployImages();
  const pki = await makeDeployPki();
  const leaf = await (setup.leaf ?? ((pki) => pki.issue("app")))(pki);
  const certificateDir = `${pki.dir}/certificate`;
  const project = async (leaf: Leaf) =>
    await writeProjection(certificateDir, await certificateFiles(pki, leaf), { uid: POD_UID });
  await project(leaf);
  const emulator = await startDeployWalkthrough(pki, setup.emulator);
  let pod: PlayedPod | undefined;
  try {
    await body({
      images,
      pki,
      emulator,
      leaf,
      project,
      async deployment(pattern, app, options = {}) {
        const path = `kubernetes/${pattern}/deployment.yaml`;
        const values = { CERTROLE_IMAGE: images.sidecar, APP_IMAGE: images[app], AWS_REGION: "us-east-1" };
        if (options.csi) return await csiVariant(path, { ...values, CERT_MANAGER_ISSUER: "roles-anywhere-ca" });
        const [deployment] = await loadManifests(path, values);
        return deployment;
      },
      async play(deployment, options = {}) {
        pod = await playPod({
          deployment,
          configMaps: [emulator.configMap],
          certificateDir,
          appEnv: emulator.appEnv,
          port: freePort(),
          ...options,
        });
        return pod;
      },
    });
  } finally {
    await removePod(pod);
    await emulator.close();
  }
}
