/**
 * The credential keeper of resident commands: one fetch at a time (requests during a fetch are
 * folded into one more), readers get the held credentials while a refresh runs, a failed refresh
 * keeps the held credentials until their hand-out floor and logs one line, and a failed first
 * fetch is thrown (fail-fast start). The clock is injected.
 */
import assert from "node:assert/strict";
import { CredentialKeeper, type Fetched } from "../cli/credentials/credential_keeper.ts";

const CERT = { serial: "1", fingerprint: "ab", notAfter: new Date("2030-01-01T00:00:00Z") };

function credentials(id: string, expiresAt: Date): Fetched {
  return {
    credentials: {
      accessKeyId: id,
      secretAccessKey: `secret-${id}`,
      sessionToken: `token-${id}`,
      expiration: expiresAt.toISOString(),
    },
    certificate: CERT,
  };
}

function harness() {
  let now = new Date("2024-01-01T00:00:00Z");
  const lines: string[] = [];
  const fetches: PromiseWithResolvers<Fetched>[] = [];
  let active = 0;
  let maxActive = 0;
  const keeper = new CredentialKeeper({
    fetch: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      const deferred = Promise.withResolvers<Fetched>();
      fetches.push(deferred);
      try {
        return await deferred.promise;
      } finally {
        active--;
      }
    },
    log: (line) => lines.push(line),
    now: () => now,
    random: () => 0,
  });
  const inHour = () => new Date(now.getTime() + 3600_000);
  return {
    keeper,
    lines,
    fetches,
    inHour,
    maxActive: () => maxActive,
    advance: (seconds: number) => now = new Date(now.getTime() + seconds * 1000),
    settle: () => new Promise((resolve) => setTimeout(resolve, 0)),
  };
}

Deno.test("refreshes run one at a time; readers get the held credentials meanwhile", async () => {
  const h = harness();
  const started = h.keeper.start();
  h.fetches[0].resolve(credentials("A", h.inHour()));
  await started;
  try {
    const first = h.keeper.refresh("scheduled");
    const second = h.keeper.refresh("certificate rotated");
    const third = h.keeper.refresh("certificate rotated");
    await h.settle();
    assert.equal(h.fetches.length, 2, "one fetch running");
    assert.equal(h.keeper.usable()?.credentials.accessKeyId, "A", "readers do not wait");
    h.fetches[1].resolve(credentials("B", h.inHour()));
    await h.settle();
    assert.equal(h.fetches.length, 3, "the requests made meanwhile fold into one more fetch");
    h.fetches[2].resolve(credentials("C", h.inHour()));
    assert.deepEqual(await Promise.all([first, second, third]), [true, true, true]);
    assert.equal(h.maxActive(), 1);
    assert.equal(h.keeper.usable()?.credentials.accessKeyId, "C");
    assert.equal(h.lines.filter((line) => line.startsWith("refreshed")).length, 2);
    assert.ok(h.lines.every((line) => !line.includes("secret-") && !line.includes("token-")), "no secrets logged");
  } finally {
    h.keeper.stop();
  }
});

Deno.test("a failed refresh keeps handing out the held credentials until 15 minutes before expiry, then none", async () => {
  const h = harness();
  const started = h.keeper.start();
  h.fetches[0].resolve(credentials("A", h.inHour()));
  await started;
  try {
    h.advance(1800);
    const refreshing = h.keeper.refresh("scheduled");
    h.fetches[1].reject(new Error("connection to rolesanywhere refused"));
    assert.equal(await refreshing, false);
    assert.equal(h.lines.length, 1);
    assert.match(
      h.lines[0],
      /^refresh failed \(scheduled, attempt 1\): connection to rolesanywhere refused; still handing out access key A until .*; retrying in \d/,
    );
    h.advance(899);
    assert.equal(h.keeper.usable()?.credentials.accessKeyId, "A");
    h.advance(1);
    assert.equal(h.keeper.usable(), undefined, "within the hand-out floor");
    assert.equal(h.keeper.usable(), undefined);
    assert.equal(h.lines.filter((line) => line.includes("answering 503")).length, 1, "said once");
  } finally {
    h.keeper.stop();
  }
});

Deno.test("a failed first fetch is thrown: nothing starts without credentials", async () => {
  const h = harness();
  const started = h.keeper.start();
  h.fetches[0].reject(new Error("AccessDeniedException"));
  await assert.rejects(started, /AccessDeniedException/);
  assert.equal(h.keeper.usable(), undefined);
  h.keeper.stop();
});

Deno.test("a reader past the refresh point starts the late refresh; readers meanwhile share it; a failure keeps its backoff", async () => {
  const h = harness();
  const started = h.keeper.start();
  h.fetches[0].resolve(credentials("A", h.inHour()));
  await started;
  try {
    h.advance(1799);
    assert.equal(h.keeper.usable()?.credentials.accessKeyId, "A");
    assert.equal(h.fetches.length, 1, "before the refresh point a reader fetches nothing");
    // The timer has not fired (a suspended machine): the clock is past the refresh point.
    h.advance(1);
    for (let i = 0; i < 200; i++) assert.equal(h.keeper.usable()?.credentials.accessKeyId, "A", "readers do not wait");
    await h.settle();
    assert.equal(h.fetches.length, 2, "200 readers, one fetch");
    h.fetches[1].reject(new Error("throttled"));
    await h.settle();
    assert.match(h.lines.at(-1)!, /^refresh failed \(due, attempt 1\)/);
    for (let i = 0; i < 200; i++) h.keeper.usable();
    await h.settle();
    assert.equal(h.fetches.length, 2, "after a failure readers leave the retry to its backoff");
    assert.equal(h.maxActive(), 1);
  } finally {
    h.keeper.stop();
  }
});
