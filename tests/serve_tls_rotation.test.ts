/**
 * serve over TLS takes a replaced TLS pair only when TLS can use it: a key file replaced by another
 * key (no longer the certificate's) is logged once, naming the problem, and the old certificate
 * stays served (a client that trusts its CA still gets credentials, one that trusts only the new
 * CA does not); once the certificate file is replaced too, making a good new pair, new connections
 * get the new certificate.
 */
import assert from "node:assert/strict";
import { sessionEnv, startWalkthrough } from "./support/emulator.ts";
import { issueLeaf, makeCa, tlsServer } from "./support/pki.ts";
import { tempDir } from "./support/run.ts";
import { spawnServe } from "./support/serve.ts";

const dir = await tempDir("certrole-serve-tls-rotation-");
const oldTls = await tlsServer(`${dir}/old`, "old TLS CA");
const newTls = await tlsServer(`${dir}/new`, "new TLS CA");
const certFile = `${dir}/tls.crt`;
const keyFile = `${dir}/tls.key`;
const [certPattern, keyPattern] = [certFile, keyFile].map((path) => path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));

/** Replaces `path` as a secret volume or a deploy tool does: a new file renamed over it. */
async function replace(path: string, text: string) {
  await Deno.writeTextFile(`${path}.new`, text);
  await Deno.rename(`${path}.new`, path);
}

Deno.test("a rotated-in TLS key that is not the certificate's is refused and logged; the old pair serves on", async () => {
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, "leaf");
  await replace(certFile, oldTls.cert);
  await replace(keyFile, oldTls.key);
  const walkthrough = await startWalkthrough(await Deno.readTextFile(ca.cert));
  const serve = await spawnServe(
    ["--port", "0", "--token-file", `${dir}/token`, "--tls-cert", certFile, "--tls-key", keyFile],
    { HOME: dir, ...sessionEnv(walkthrough, leaf) },
  );
  try {
    const token = await Deno.readTextFile(`${dir}/token`);
    /** What a client that trusts only `caFile` gets on a new connection: "credentials", or why not. */
    const answer = async (caFile: string) => {
      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
      try {
        const response = await fetch(serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI, {
          headers: { Authorization: token },
          client,
        });
        const body = await response.json();
        return response.status === 200 && typeof body.AccessKeyId === "string" ? "credentials" : `${response.status}`;
      } catch (error) {
        return `refused: ${error}`;
      } finally {
        client.close();
      }
    };
    assert.match(serve.exports.AWS_CONTAINER_CREDENTIALS_FULL_URI, /^https:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(await answer(oldTls.ca), "credentials");

    await replace(keyFile, newTls.key);
    await serve.waitForLog(
      new RegExp(
        `TLS certificate ${certPattern} replaced but refused \\(--tls-key "${keyPattern}" \\(EC P-256\\) is not the key ` +
          `of the certificate in --tls-cert "${certPattern}" .*\\): keeping the old one$`,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 2500)); // more polls of the same files: logged once
    assert.equal(serve.output().stderr.split("\n").filter((line) => line.includes("replaced but refused")).length, 1);
    assert.equal(await answer(oldTls.ca), "credentials", "the old certificate is still served");
    assert.match(await answer(newTls.ca), /^refused: /, "the refused pair is not served");

    await replace(certFile, newTls.cert); // with the key already there: a good new pair
    await serve.waitForLog(new RegExp(`TLS certificate ${certPattern} replaced: new connections use it$`));
    assert.equal(await answer(newTls.ca), "credentials", "the new certificate is served");
    assert.match(await answer(oldTls.ca), /^refused: /, "the old certificate is no longer served");
    const { code, stderr } = await serve.stop();
    assert.equal(code, 0, stderr);
  } finally {
    await serve.stop();
    await walkthrough.emulator.close();
    await Deno.remove(dir, { recursive: true });
  }
});
