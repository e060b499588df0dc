/**
 * The emulator's HTTP layer does not let clients hold it: a header section over the limit
 * (32 KiB by default; here a certificate with a 47 KB serial in X-Amz-X509) is refused before
 * anything parses it, headers that do not arrive in time and idle keep-alive connections are
 * closed, connections beyond the cap are closed as they arrive, and a malformed request gets an
 * answer. Every refusal the HTTP layer makes is AWS-shaped: an oversized or malformed request in
 * the format of the service it names as far as it arrived (Roles Anywhere JSON, IAM XML), a
 * timeout (nothing of the request at hand) as REST-JSON RequestTimeout. The limits are lowered
 * here so the test runs in seconds; the defaults are in cli/emulator/server.ts (EMULATOR_LIMITS).
 */
import assert from "node:assert/strict";
import { startEmulator } from "../cli/emulator/server.ts";
import { firstResponse, rawConnection } from "./support/raw_http.ts";

const LIMITS = { headersTimeoutMs: 600, idleTimeoutMs: 600, requestTimeoutMs: 5000, maxConnections: 8 };
/** Generous next to the limits above, short next to "forever". */
const DEADLINE_MS = 6000;

const createSessionHead = (x509: string) =>
  `POST /sessions?profileArn=a&roleArn=b&trustAnchorArn=c HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
  `Authorization: AWS4-X509-RSA-SHA256 Credential=1/20240101/us-east-1/rolesanywhere/aws4_request, SignedHeaders=host;x-amz-date;x-amz-x509, Signature=00\r\n` +
  `X-Amz-Date: 20240101T000000Z\r\nX-Amz-X509: ${x509}\r\nContent-Length: 2\r\n\r\n{}`;

Deno.test("a header section over the limit is refused before it is parsed, in the service's format", async () => {
  const sessions: unknown[] = [];
  const emulator = await startEmulator({ onSession: (entry) => void sessions.push(entry) });
  const port = Number(new URL(emulator.url).port);
  try {
    const connection = await rawConnection(port);
    // Base64 of 47 KB: a certificate with a 47 KB serial would be this long.
    await connection.write(createSessionHead("A".repeat(47_000 * 4 / 3)));
    const { text } = await connection.read(DEADLINE_MS);
    connection.close();
    const response = firstResponse(text);
    assert.equal(response?.status, 400, text.slice(0, 300));
    assert.match(response!.headers, /x-amzn-errortype: requestheadersectiontoolarge/);
    assert.match(response!.body, /header section exceeds the maximum allowed size/);
    assert.equal(sessions.length, 0, "CreateSession never saw it");

    const iam = await rawConnection(port);
    await iam.write(
      `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Padding: ${
        "p".repeat(40_000)
      }\r\nContent-Length: 0\r\n\r\n`,
    );
    const iamAnswer = firstResponse((await iam.read(DEADLINE_MS)).text);
    iam.close();
    assert.equal(iamAnswer?.status, 400);
    assert.match(
      iamAnswer!.body,
      /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>RequestHeaderSectionTooLarge<\/Code>/,
    );
  } finally {
    await emulator.close();
  }
});

Deno.test("slow headers and idle connections are closed; connections beyond the cap are refused", async () => {
  const emulator = await startEmulator({ limits: LIMITS });
  const port = Number(new URL(emulator.url).port);
  try {
    const silent = await rawConnection(port);
    const partial = await rawConnection(port);
    await partial.write("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    const idle = await rawConnection(port);
    await idle.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const [silentEnd, partialEnd, idleEnd] = await Promise.all([silent, partial, idle].map((c) => c.read(DEADLINE_MS)));
    assert.ok(silentEnd.closed, "a connection that sends nothing stays open");
    assert.match(firstResponse(silentEnd.text)?.headers ?? "", /x-amzn-errortype: requesttimeout/);
    assert.ok(partialEnd.closed, "a connection with half a header stays open");
    assert.match(firstResponse(partialEnd.text)?.headers ?? "", /x-amzn-errortype: requesttimeout/);
    assert.ok(idleEnd.closed, "an idle keep-alive connection stays open");
    assert.equal(firstResponse(idleEnd.text)?.status, 403, "the request itself was answered");
    for (const connection of [silent, partial, idle]) connection.close();

    // Up to the cap, connections are held (until their own timeout); the next one is closed at once.
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => rawConnection(port)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const extra = await rawConnection(port);
    await extra.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const refused = await extra.read(LIMITS.headersTimeoutMs / 2);
    assert.ok(refused.closed && refused.text === "", `the connection over the cap was served: ${refused.text}`);
    extra.close();
    for (const connection of held) connection.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = await rawConnection(port);
    await after.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert.equal(firstResponse((await after.read(DEADLINE_MS)).text)?.status, 403, "serving again below the cap");
    after.close();
  } finally {
    await emulator.close();
  }
});

Deno.test("a malformed request gets an AWS-shaped 400", async () => {
  const emulator = await startEmulator({ limits: LIMITS });
  try {
    const connection = await rawConnection(Number(new URL(emulator.url).port));
    await connection.write("NOT HTTP AT ALL\r\n\r\n");
    const { text, closed } = await connection.read(DEADLINE_MS);
    connection.close();
    const response = firstResponse(text);
    assert.ok(closed);
    assert.equal(response?.status, 400, text);
    assert.match(response!.headers, /x-amzn-errortype: badrequest/);
    assert.equal(typeof JSON.parse(response!.body).message, "string");
  } finally {
    await emulator.close();
  }
});
