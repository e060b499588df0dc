/**
 * `make simulate-fleet`: a fleet of pods, each holding one role's credentials the way `certrole
 * serve` does (its CredentialKeeper: refresh schedule with jitter, single-flight, retries with
 * backoff, the hand-out floor), against `certrole emulator` in its own process with AWS's
 * CreateSession quota (`--throttle TPS --throttle-scope account`) and short credentials
 * (`--credential-lifetime`), so hours of refreshing happen in minutes. Each pod has its own key
 * and certificate. A pod whose first CreateSession fails exits, as serve does, and is restarted
 * with the kubelet's CrashLoopBackOff (10 s doubling to 5 min).
 *
 * Every 250 ms each running pod is asked for the credentials it would hand out now (what its
 * /v1/credentials answers): the run fails if one was ever expired. Credentials within the hand-out
 * floor are not handed out (the keeper answers none, counted as time answering 503), and the least
 * time left on any handed out is reported. It also reports the CreateSession calls (issued,
 * throttled, per second), how long the fleet took to start, refreshes per pod, and how long pods
 * answered 503.
 *
 *   deno run -A scripts/fleet_simulation.ts [--identities 1000] [--throttle 10] [--lifetime 480]
 *       [--duration 480] [--start-window 0] [--max-attempts 3] [--json FILE]
 */
import { parseArgs } from "node:util";
import { CredentialKeeper } from "../cli/credentials/credential_keeper.ts";
import { type Environment, fetchCredentials, loadSessionIdentity } from "../cli/credentials/obtain.ts";
import { parseSessionLog } from "../cli/emulator/session_log.ts";
import { parseCertificate } from "../cli/identity/certificate.ts";
import { toPem } from "../cli/identity/pem.ts";
import {
  createCaCertificate,
  createLeafCertificate,
  encodeName,
  generateKeyPair,
  privateKeyPem,
  spkiOf,
} from "../cli/pki/certificate_authority.ts";
import { parseFlags } from "../cli/flags.ts";
import { SESSION_FLAGS, sessionSettingsFrom } from "../cli/session_settings.ts";
import { iamSetup, spawnEmulator } from "./emulator_process.ts";

const { values } = parseArgs({
  options: {
    identities: { type: "string", default: "1000" },
    throttle: { type: "string", default: "10" },
    lifetime: { type: "string", default: "480" },
    duration: { type: "string", default: "480" },
    "start-window": { type: "string", default: "0" },
    "max-attempts": { type: "string", default: "3" },
    json: { type: "string" },
  },
});
const N = Number(values.identities);
const TPS = Number(values.throttle);
const LIFETIME = Number(values.lifetime);
const DURATION_MS = Number(values.duration) * 1000;
const START_WINDOW_MS = Number(values["start-window"]) * 1000;
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const work = await Deno.makeTempDir({ prefix: "certrole-fleet-" });
const certrole = [Deno.execPath(), "run", "--allow-all", "--quiet", `${ROOT}/cli/main.ts`];
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

// The PKI: one CA (the trust anchor), one key and certificate per pod, all CN=fleet-member.
const caKeys = await generateKeyPair("ec-p256");
const now = new Date();
const validity = { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 86_400_000) };
const caDer = await createCaCertificate({ keys: caKeys, subject: encodeName({ cn: "fleet-ca" }), ...validity });
await Deno.writeTextFile(`${work}/ca.pem`, toPem("CERTIFICATE", caDer));
const caCertificate = parseCertificate(caDer);
log(`issuing ${N} certificates`);
for (let i = 0; i < N; i++) {
  const keys = await generateKeyPair("ec-p256");
  const der = await createLeafCertificate({
    issuer: { certificate: caCertificate, signingKey: caKeys.privateKey },
    publicKey: await spkiOf(keys.publicKey),
    subject: encodeName({ cn: "fleet-member" }),
    clientAuth: true,
    ...validity,
  });
  await Deno.writeTextFile(`${work}/pod-${i}.crt`, toPem("CERTIFICATE", der));
  await Deno.writeTextFile(`${work}/pod-${i}.key`, await privateKeyPem(keys.privateKey, undefined));
}

// The emulator, as its own process, seeded by `certrole iam setup` as a user would. A loaded
// machine may take many seconds to start it.
const sessionLogPath = `${work}/sessions.jsonl`;
const emulator = await spawnEmulator({
  certrole,
  args: [
    ...["--session-log", sessionLogPath],
    ...["--throttle", String(TPS), "--throttle-scope", "account", "--credential-lifetime", String(LIFETIME)],
  ],
  dir: work,
  readyWithinMs: 60_000,
}).catch((error) => {
  console.error(`fleet simulation: ${error.message}`);
  Deno.exit(1);
});
const arns = await iamSetup(certrole, emulator, [
  ...["--role-name", "fleet", "--cn", "fleet-member", "--ca", `${work}/ca.pem`, "--allow", "s3:ListAllMyBuckets"],
]);
const roleEnv = {
  ROLESANYWHERE_TRUST_ANCHOR_ARN: arns.trustAnchorArn,
  ROLESANYWHERE_PROFILE_ARN: arns.profileArn,
  ROLESANYWHERE_ROLE_ARN: arns.roleArn,
  ROLESANYWHERE_ENDPOINT: emulator.url,
};

interface Pod {
  keeper?: CredentialKeeper;
  startedAt?: number;
  starts: number;
  crashes: number;
  refreshFailures: number;
  unavailableMs: number;
}

const pods: Pod[] = Array.from({ length: N }, () => ({ starts: 0, crashes: 0, refreshFailures: 0, unavailableMs: 0 }));
const violations: string[] = [];
let minLeftMs = Infinity;
const t0 = Date.now();
let stopping = false;

function environmentOf(i: number): { settings: ReturnType<typeof sessionSettingsFrom>; environment: Environment } {
  const variables: Record<string, string> = {
    ...roleEnv,
    ROLESANYWHERE_CERT_LOCATION: `${work}/pod-${i}.crt`,
    ROLESANYWHERE_KEY_LOCATION: `${work}/pod-${i}.key`,
    ROLESANYWHERE_NO_CACHE: "true",
    AWS_MAX_ATTEMPTS: String(values["max-attempts"]),
  };
  const env = (name: string) => variables[name];
  return {
    settings: sessionSettingsFrom(parseFlags([], SESSION_FLAGS, env), env),
    environment: { env, now: () => new Date(), debug: () => {}, warn: () => {} },
  };
}

/** serve's start: load the identity, first CreateSession; on failure exit, and the kubelet restarts it. */
const timers = new Set<ReturnType<typeof setTimeout>>();
function later(ms: number, run: () => void): void {
  const timer = setTimeout(() => {
    timers.delete(timer);
    run();
  }, ms);
  timers.add(timer);
}

async function startPod(i: number): Promise<void> {
  if (stopping) return;
  const pod = pods[i];
  const { settings, environment } = environmentOf(i);
  const identity = await loadSessionIdentity(settings, environment);
  // serve's keeper, not its whole startCredentialSupply: that also polls the certificate and key
  // files every second (ROTATION_POLL_MS) for rotation, 1,000 polls a second in the 1,000-pod run,
  // and no pod's files change here. The certificate label is a stand-in: nothing here reads it.
  const keeper = new CredentialKeeper({
    fetch: async () => ({
      credentials: await fetchCredentials(settings, environment, identity),
      certificate: { serial: identity.certificate.serialDecimal ?? "", fingerprint: "", notAfter: validity.notAfter },
    }),
    log: (line) => {
      if (line.startsWith("refresh failed")) pod.refreshFailures++;
    },
  });
  pod.starts++;
  try {
    await keeper.start();
  } catch {
    keeper.stop();
    pod.crashes++;
    if (stopping) return;
    // CrashLoopBackOff: 10 s, 20 s, 40 s, ... at most 5 minutes.
    const backoff = Math.min(300_000, 10_000 * 2 ** (pod.crashes - 1));
    later(backoff, () => void startPod(i));
    return;
  }
  if (stopping) return keeper.stop();
  pod.keeper = keeper;
  pod.startedAt = Date.now() - t0;
}

log(
  `starting ${N} pods${START_WINDOW_MS ? ` over ${START_WINDOW_MS / 1000} s` : " at once"}: ` +
    `throttle ${TPS}/s per account, credentials live ${LIFETIME} s, AWS_MAX_ATTEMPTS=${values["max-attempts"]}`,
);
for (let i = 0; i < N; i++) later(Math.random() * START_WINDOW_MS, () => void startPod(i));

const SAMPLE_MS = 250;
const sampler = setInterval(() => {
  const at = Date.now();
  for (const [i, pod] of pods.entries()) {
    if (!pod.keeper) continue;
    const held = pod.keeper.usable();
    if (!held) {
      pod.unavailableMs += SAMPLE_MS;
      continue;
    }
    const left = Date.parse(held.credentials.expiration) - at;
    minLeftMs = Math.min(minLeftMs, left);
    if (left <= 0) violations.push(`pod ${i} handed out credentials that expired ${-left} ms ago`);
  }
}, SAMPLE_MS);
const progress = setInterval(() => {
  const running = pods.filter((pod) => pod.keeper).length;
  log(`${running}/${N} pods running`);
}, 30_000);

await new Promise((resolve) => setTimeout(resolve, DURATION_MS));
stopping = true;
for (const timer of timers) clearTimeout(timer);
clearInterval(sampler);
clearInterval(progress);
for (const pod of pods) pod.keeper?.stop();
await emulator.stop();

const entries = parseSessionLog(await Deno.readTextFile(sessionLogPath));
const perSecond = new Map<number, { issued: number; throttled: number }>();
for (const entry of entries) {
  const second = Math.floor((Date.parse(entry.time) - t0) / 1000);
  const bucket = perSecond.get(second) ?? { issued: 0, throttled: 0 };
  if (entry.outcome === "issued") bucket.issued++;
  else if (entry.outcome === "ThrottlingException") bucket.throttled++;
  perSecond.set(second, bucket);
}
const issued = entries.filter((entry) => entry.outcome === "issued").length;
const throttled = entries.filter((entry) => entry.outcome === "ThrottlingException").length;
const other = entries.length - issued - throttled;
const started = pods.filter((pod) => pod.startedAt !== undefined);
const startTimes = started.map((pod) => pod.startedAt!).sort((a, b) => a - b);
const percentile = (list: number[], p: number) => list[Math.min(list.length - 1, Math.floor(list.length * p))];
const steady = [...perSecond.entries()].filter(([second]) => second * 1000 > (startTimes.at(-1) ?? 0));
const summary = {
  identities: N,
  throttleTps: TPS,
  credentialLifetimeSeconds: LIFETIME,
  durationSeconds: DURATION_MS / 1000,
  startWindowSeconds: START_WINDOW_MS / 1000,
  maxAttempts: Number(values["max-attempts"]),
  createSession: { calls: entries.length, issued, throttled, other },
  issuedPerSecondMax: Math.max(0, ...[...perSecond.values()].map((bucket) => bucket.issued)),
  callsPerSecondMax: Math.max(0, ...[...perSecond.values()].map((bucket) => bucket.issued + bucket.throttled)),
  steadyIssuedPerSecond: steady.length
    ? Number((steady.reduce((sum, [, bucket]) => sum + bucket.issued, 0) / steady.length).toFixed(2))
    : undefined,
  podsRunning: started.length,
  startSeconds: {
    p50: startTimes.length ? percentile(startTimes, 0.5) / 1000 : undefined,
    p90: startTimes.length ? percentile(startTimes, 0.9) / 1000 : undefined,
    last: startTimes.length ? startTimes.at(-1)! / 1000 : undefined,
  },
  crashRestarts: pods.reduce((sum, pod) => sum + pod.crashes, 0),
  refreshFailuresRetried: pods.reduce((sum, pod) => sum + pod.refreshFailures, 0),
  issuedPerPod: Number((issued / N).toFixed(2)),
  podSecondsAnswering503: pods.reduce((sum, pod) => sum + pod.unavailableMs, 0) / 1000,
  minSecondsLeftHandedOut: Number.isFinite(minLeftMs) ? Math.round(minLeftMs / 1000) : undefined,
  expiredHandedOut: violations.length,
};
console.log(JSON.stringify(summary, null, 2));
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(summary, null, 2) + "\n");
await Deno.remove(work, { recursive: true });
if (violations.length) console.error(violations.slice(0, 10).join("\n"));
// Retries still sleeping inside stopped pods' CreateSession calls would keep the process alive.
Deno.exit(violations.length ? 1 : 0);
