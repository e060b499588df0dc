/**
 * CreateSession evaluates the role's trust policy against the certificate, as IAM Roles
 * Anywhere does: Principal Service rolesanywhere.amazonaws.com; sts:AssumeRole, sts:TagSession
 * and sts:SetSourceIdentity all allowed; conditions on aws:PrincipalTag/x509Subject/*,
 * x509Issuer/*, x509SAN/DNS|URI and aws:SourceArn (the trust anchor). What the policy does not
 * allow is refused with AccessDeniedException, and an explicit Deny wins.
 */
import assert from "node:assert/strict";
import { createProfile, createRole, createTrustAnchor } from "../cli/emulator/resources.ts";
import { startEmulator } from "../cli/emulator/server.ts";
import { certificateFromBytes, privateKeyFromBytes } from "../cli/identity/identity.ts";
import { createSessionRequest, signRequest } from "../cli/signing/sigv4_x509.ts";
import { issueLeaf, type Leaf, makeCa } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";

const dir = await tempDir();
const ca = await makeCa(dir);
const container = await issueLeaf(ca, "container", { san: "DNS:app.example.com,URI:spiffe://example/app" });
const stranger = await issueLeaf(ca, "stranger", { cn: "someoneElse" });

const emulator = await startEmulator();
const now = new Date();
const anchor = createTrustAnchor(emulator.state, {
  name: "myPrivateCA",
  enabled: true,
  source: { sourceType: "CERTIFICATE_BUNDLE", sourceData: { x509CertificateData: await Deno.readTextFile(ca.cert) } },
}, now);
const ACTIONS = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"];

/** Roles by name, each with one trust policy; all listed in one profile. */
const roles: Record<string, unknown[]> = {
  "cn-equals": [statement({ StringEquals: { "aws:PrincipalTag/x509Subject/CN": "myContainer" } })],
  "cn-like": [statement({ StringLike: { "aws:PrincipalTag/x509Subject/CN": "my*" } })],
  "cn-not-equals": [statement({ StringNotEquals: { "aws:PrincipalTag/x509Subject/CN": "someoneElse" } })],
  "issuer-cn": [statement({ StringEquals: { "aws:PrincipalTag/x509Issuer/CN": "myPrivateCA" } })],
  "issuer-o": [statement({ StringEquals: { "aws:PrincipalTag/x509Issuer/O": "Example" } })],
  "issuer-other": [statement({ StringEquals: { "aws:PrincipalTag/x509Issuer/CN": "someOtherCA" } })],
  "san-dns": [statement({ StringEquals: { "aws:PrincipalTag/x509SAN/DNS": "app.example.com" } })],
  "san-dns-if-exists": [statement({ StringEqualsIfExists: { "aws:PrincipalTag/x509SAN/DNS": "app.example.com" } })],
  "san-uri": [statement({ StringLike: { "aws:PrincipalTag/x509SAN/URI": "spiffe://example/*" } })],
  "source-arn": [statement({ ArnEquals: { "aws:SourceArn": anchor.trustAnchorArn } })],
  "source-arn-like": [
    statement({ ArnLike: { "aws:SourceArn": "arn:aws:rolesanywhere:*:123456789012:trust-anchor/*" } }),
  ],
  "source-arn-other": [
    statement({
      ArnEquals: {
        "aws:SourceArn":
          "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-0000-0000-000000000000",
      },
    }),
  ],
  "other-service": [{ ...statement({}), Principal: { Service: "ec2.amazonaws.com" } }],
  "assume-only": [{ ...statement({}), Action: "sts:AssumeRole" }],
  "explicit-deny": [
    statement({}),
    {
      Effect: "Deny",
      Principal: { Service: "rolesanywhere.amazonaws.com" },
      Action: "sts:*",
      Condition: { StringEquals: { "aws:PrincipalTag/x509Subject/CN": "myContainer" } },
    },
  ],
};

function statement(condition: Record<string, unknown>) {
  return {
    Effect: "Allow",
    Principal: { Service: "rolesanywhere.amazonaws.com" },
    Action: ACTIONS,
    Condition: condition,
  };
}

const roleArns: Record<string, string> = {};
for (const [name, statements] of Object.entries(roles)) {
  roleArns[name] = createRole(emulator.state, {
    roleName: name,
    assumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
  }, now).arn;
}
const profile = createProfile(emulator.state, { name: "all", enabled: true, roleArns: Object.values(roleArns) }, now);

async function createSession(
  leaf: Leaf,
  role: string,
): Promise<{ status: number; errorType: string | null; message?: string }> {
  const certificate = certificateFromBytes(await Deno.readFile(leaf.cert), leaf.cert);
  const key = await privateKeyFromBytes(
    await Deno.readFile(leaf.key),
    leaf.key,
    leaf.passphrase ? { value: leaf.passphrase, source: "test" } : undefined,
  );
  const signed = await signRequest(
    createSessionRequest({
      endpoint: emulator.url,
      region: "us-east-1",
      trustAnchorArn: anchor.trustAnchorArn,
      profileArn: profile.profileArn,
      roleArn: roleArns[role],
      durationSeconds: 900,
      certificate,
      intermediates: [],
      algorithm: key.algorithm,
    }, new Date()),
    key.signingKey,
  );
  const headers = { ...signed.headers };
  delete headers["Host"];
  const response = await fetch(signed.url, { method: "POST", headers, body: signed.body });
  const body = await response.json();
  return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), message: body.message };
}

async function expectAllowed(leaf: Leaf, role: string) {
  const result = await createSession(leaf, role);
  assert.equal(result.status, 201, `${role}: ${result.errorType} ${result.message}`);
}

async function expectDenied(leaf: Leaf, role: string) {
  const result = await createSession(leaf, role);
  assert.equal(result.status, 403, `${role} should be refused`);
  assert.equal(result.errorType, "AccessDeniedException");
  assert.match(result.message ?? "", /Unable to assume role .*its trust policy does not allow/);
}

Deno.test("CreateSession evaluates the role's trust policy against the certificate", async (t) => {
  try {
    await t.step("subject CN: StringEquals, StringLike and StringNotEquals", async () => {
      for (const role of ["cn-equals", "cn-like", "cn-not-equals"]) {
        await expectAllowed(container, role);
        await expectDenied(stranger, role);
      }
    });

    await t.step("issuer attributes: the CA's CN and O; another issuer CN is refused", async () => {
      await expectAllowed(container, "issuer-cn");
      await expectAllowed(stranger, "issuer-cn");
      await expectAllowed(container, "issuer-o");
      await expectDenied(container, "issuer-other");
    });

    await t.step("SAN DNS and URI; a certificate without a SAN fails the condition unless IfExists", async () => {
      await expectAllowed(container, "san-dns");
      await expectAllowed(container, "san-uri");
      await expectDenied(stranger, "san-dns");
      await expectDenied(stranger, "san-uri");
      await expectAllowed(stranger, "san-dns-if-exists");
      await expectAllowed(container, "san-dns-if-exists");
    });

    await t.step(
      "aws:SourceArn is the trust anchor: ArnEquals and ArnLike hold, another anchor's ARN is refused",
      async () => {
        await expectAllowed(container, "source-arn");
        await expectAllowed(container, "source-arn-like");
        await expectDenied(container, "source-arn-other");
      },
    );

    await t.step("another service principal, a missing sts:TagSession, an explicit Deny: refused", async () => {
      await expectDenied(container, "other-service");
      await expectDenied(container, "assume-only");
      await expectDenied(container, "explicit-deny");
    });

    await t.step("the issued session carries the certificate's attributes as principal tags", async () => {
      await expectAllowed(container, "cn-equals");
      const session = Object.values(emulator.state.sessions).at(-1)!;
      assert.equal(session.principalTags["x509Subject/CN"], "myContainer");
      assert.equal(session.principalTags["x509Issuer/CN"], "myPrivateCA");
      assert.equal(session.principalTags["x509SAN/DNS"], "app.example.com");
      assert.equal(session.principalTags["x509SAN/URI"], "spiffe://example/app");
    });
  } finally {
    await emulator.close();
  }
});
