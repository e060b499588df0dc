/**
 * ARNs and regions of different partitions: the client refuses, with one line naming the
 * mismatch and before it connects anywhere, a trust anchor of arn:aws-cn with --region us-east-1,
 * an ARN whose partition does not own its own region, and a role of another partition than the
 * trust anchor; the emulator answers such a CreateSession (signed by a client that did not check)
 * with ValidationException, as for a profile in another region than its endpoint; and an
 * emulator in cn-north-1 names its resources arn:aws-cn:…, which the client accepts.
 */
import assert from "node:assert/strict";
import { signedCreateSession } from "./support/create_session.ts";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { singleCallEnv } from "./support/exec.ts";
import { issueLeaf, makeCa } from "./support/pki.ts";
import { certrole, tempDir } from "./support/run.ts";

const dir = await tempDir("certrole-partitions-");
const ca = await makeCa(dir);
const leaf = await issueLeaf(ca, "leaf");

/** A TCP listener that counts the connections it is offered. */
function countingListener() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  (async () => {
    try {
      for await (const conn of listener) {
        connections++;
        conn.close();
      }
    } catch { /* closed */ }
  })();
  return { port: (listener.addr as Deno.NetAddr).port, connections: () => connections, close: () => listener.close() };
}

const CN_ANCHOR = "arn:aws-cn:rolesanywhere:cn-north-1:123456789012:trust-anchor/t";
const CN_PROFILE = "arn:aws-cn:rolesanywhere:cn-north-1:123456789012:profile/p";
const CN_ROLE = "arn:aws-cn:iam::123456789012:role/r";

Deno.test("the client names a partition mismatch in one line and sends nothing", async () => {
  const listener = countingListener();
  const cases: [Record<string, string>, string[], RegExp][] = [
    [
      {
        ROLESANYWHERE_TRUST_ANCHOR_ARN: CN_ANCHOR,
        ROLESANYWHERE_PROFILE_ARN: CN_PROFILE,
        ROLESANYWHERE_ROLE_ARN: CN_ROLE,
      },
      ["--region", "us-east-1"],
      /^certrole: --region us-east-1 is in partition aws but the trust anchor is in aws-cn \(cn-north-1\)/,
    ],
    [
      {
        ROLESANYWHERE_TRUST_ANCHOR_ARN: "arn:aws-cn:rolesanywhere:us-east-1:123456789012:trust-anchor/t",
        ROLESANYWHERE_PROFILE_ARN: "arn:aws-cn:rolesanywhere:us-east-1:123456789012:profile/p",
        ROLESANYWHERE_ROLE_ARN: CN_ROLE,
      },
      [],
      /^certrole: the trust anchor ARN \S+ names partition aws-cn but its region us-east-1 is in aws: fix the ARN\n$/,
    ],
    [
      {
        ROLESANYWHERE_TRUST_ANCHOR_ARN: CN_ANCHOR,
        ROLESANYWHERE_PROFILE_ARN: CN_PROFILE,
        ROLESANYWHERE_ROLE_ARN: "arn:aws:iam::123456789012:role/r",
      },
      [],
      /^certrole: the role ARN is in partition aws but the trust anchor is in aws-cn/,
    ],
  ];
  try {
    for (const [arns, args, expected] of cases) {
      const result = await certrole(["credential-process", ...args], {
        env: { ...singleCallEnv(leaf, dir, `http://127.0.0.1:${listener.port}`), ...arns },
        killAfterMs: 30_000,
      });
      assert.equal(result.code, 2, result.stderr); // settings that contradict each other
      assert.match(result.stderr, expected);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    }
    assert.equal(listener.connections(), 0, "the client connected before refusing");
  } finally {
    listener.close();
  }
});

Deno.test("the emulator answers ARNs of another partition or region with ValidationException", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const createSession = (arns: { trustAnchorArn: string; profileArn: string; roleArn: string }) =>
    signedCreateSession({ ...walkthrough, ...arns }, leaf, { durationSeconds: 900 });
  const { trustAnchorArn, profileArn, roleArn } = walkthrough;
  const cn = (arn: string) => arn.replace(/^arn:aws:/, "arn:aws-cn:");
  try {
    const otherPartition = await createSession({
      trustAnchorArn: cn(trustAnchorArn),
      profileArn: cn(profileArn),
      roleArn: cn(roleArn),
    });
    assert.equal(otherPartition.status, 400, JSON.stringify(otherPartition.body));
    assert.equal(otherPartition.errorType, "ValidationException");
    assert.match(otherPartition.body.message, /is in partition aws-cn, not this endpoint's aws/);

    const otherRegion = await createSession({
      trustAnchorArn,
      profileArn: profileArn.replace(":us-east-1:", ":us-west-2:"),
      roleArn,
    });
    assert.equal(otherRegion.status, 400, JSON.stringify(otherRegion.body));
    assert.equal(otherRegion.errorType, "ValidationException");
    assert.match(
      otherRegion.body.message,
      /profileArn \S+ is in region us-west-2, not this endpoint's us-east-1/,
    );

    assert.equal((await createSession({ trustAnchorArn, profileArn, roleArn })).status, 201, "the matching ARNs work");
  } finally {
    await walkthrough.emulator.close();
  }
});

Deno.test("an emulator in cn-north-1 names its resources arn:aws-cn, and the client gets credentials", async () => {
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert), { region: "cn-north-1" });
  try {
    assert.match(walkthrough.trustAnchorArn, /^arn:aws-cn:rolesanywhere:cn-north-1:/);
    assert.match(walkthrough.roleArn, /^arn:aws-cn:iam::/);
    const result = await certrole(["credential-process"], {
      env: { HOME: dir, ...sessionEnv(walkthrough, leaf) },
      killAfterMs: 30_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(typeof JSON.parse(result.stdout).AccessKeyId, "string");
  } finally {
    await walkthrough.emulator.close();
  }
});
