/**
 * Names that are JavaScript object properties (`constructor`, `__proto__`, `toString`,
 * `hasOwnProperty`) behave like any other name: roles and inline policies are created, read,
 * listed and deleted, a role that was never made is NoSuchEntity, a bucket `constructor` can be
 * created, a trust anchor id `constructor` is refused as no id, an access key id `constructor` is an
 * unknown key, a query parameter `constructor` is signed like any other, and all of it survives
 * a save and reload of the state.
 */
import assert from "node:assert/strict";
import { loadState, saveState } from "../cli/emulator/state.ts";
import { startEmulator } from "../cli/emulator/server.ts";
import { tempDir } from "./support/run.ts";
import { FORM, signedCall } from "./support/sigv4_client.ts";

const NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty"];
const TRUST = encodeURIComponent(JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "rolesanywhere.amazonaws.com" }, Action: "sts:AssumeRole" }],
}));
const ALLOW = encodeURIComponent(JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
}));

Deno.test("object-property names are ordinary names for roles, policies, buckets, ids and keys", async () => {
  const dir = await tempDir();
  const emulator = await startEmulator({ stateDir: `${dir}/state` });
  const iam = (body: string) =>
    signedCall(emulator.url, emulator.admin, { service: "iam", headers: FORM, body: `${body}&Version=2010-05-08` });
  try {
    const unmade = await iam("Action=GetRole&RoleName=valueOf");
    assert.equal(unmade.status, 404, unmade.text);
    assert.match(unmade.text, /<Code>NoSuchEntity<\/Code>/);
    for (const name of NAMES) {
      const missing = await iam(`Action=GetRole&RoleName=${name}`);
      assert.equal(missing.status, 404, `GetRole ${name} before CreateRole: ${missing.text}`);
      const created = await iam(`Action=CreateRole&RoleName=${name}&AssumeRolePolicyDocument=${TRUST}`);
      assert.equal(created.status, 200, `CreateRole ${name}: ${created.text}`);
      const got = await iam(`Action=GetRole&RoleName=${name}`);
      assert.equal(got.status, 200, got.text);
      assert.match(got.text, new RegExp(`<RoleName>${name}</RoleName>`));
      const noPolicy = await iam(`Action=GetRolePolicy&RoleName=${name}&PolicyName=${name}`);
      assert.equal(noPolicy.status, 404, `GetRolePolicy ${name} before PutRolePolicy: ${noPolicy.text}`);
      const put = await iam(`Action=PutRolePolicy&RoleName=${name}&PolicyName=${name}&PolicyDocument=${ALLOW}`);
      assert.equal(put.status, 200, put.text);
      const listed = await iam(`Action=ListRolePolicies&RoleName=${name}`);
      assert.match(listed.text, new RegExp(`<member>${name}</member>`));
    }
    const roles = await iam("Action=ListRoles");
    for (const name of NAMES) assert.match(roles.text, new RegExp(`<RoleName>${name}</RoleName>`));

    const bucket = await signedCall(emulator.url, emulator.admin, {
      service: "s3",
      method: "PUT",
      path: "/constructor",
    });
    assert.equal(bucket.status, 200, bucket.text);
    const anchor = await signedCall(emulator.url, emulator.admin, {
      service: "rolesanywhere",
      method: "GET",
      path: "/trustanchor/constructor",
    });
    assert.equal(anchor.status, 400, anchor.text);
    assert.equal(anchor.headers.get("x-amzn-errortype"), "ValidationException");
    const stranger = await signedCall(emulator.url, { accessKeyId: "constructor", secretAccessKey: "undefined" }, {
      service: "iam",
      headers: FORM,
      body: "Action=ListRoles&Version=2010-05-08",
    });
    assert.equal(stranger.status, 403, stranger.text);
    assert.match(stranger.text, /<Code>InvalidAccessKeyId<\/Code>/);
    const query = await signedCall(emulator.url, emulator.admin, {
      service: "iam",
      query: Object.fromEntries(NAMES.map((name) => [name, "1"])),
      headers: FORM,
      body: "Action=ListRoles&Version=2010-05-08",
    });
    assert.equal(query.status, 200, query.text);

    const saved = `${dir}/copy`;
    await saveState(saved, emulator.state);
    const reloaded = (await loadState(saved))!;
    for (const name of NAMES) {
      assert.ok(Object.hasOwn(reloaded.roles, name), `role ${name} reloaded`);
      assert.equal(reloaded.roles[name].roleName, name);
      assert.ok(Object.hasOwn(reloaded.roles[name].policies, name), `policy ${name} reloaded`);
    }
    assert.equal(reloaded.roles.valueOf, undefined);
    assert.ok(Object.hasOwn(reloaded.buckets, "constructor"));

    for (const name of NAMES) {
      assert.equal((await iam(`Action=DeleteRolePolicy&RoleName=${name}&PolicyName=${name}`)).status, 200);
      assert.equal((await iam(`Action=DeleteRole&RoleName=${name}`)).status, 200);
      assert.equal((await iam(`Action=GetRole&RoleName=${name}`)).status, 404);
    }
  } finally {
    await emulator.close();
  }
});
