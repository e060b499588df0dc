/**
 * PEM (cli/identity/pem.ts), in-process: every block of a file in order, with its label, the
 * legacy RFC 1421 headers of `Proc-Type: 4,ENCRYPTED` keys and the decoded bytes; CRLF line ends,
 * indentation and text between blocks (openssl's "Bag Attributes") are tolerated; a block closed
 * by another label, never closed, empty or not base64 is a PemError that says which. toPem writes
 * 64 columns, as openssl does, and parsePem reads back what it wrote.
 */
import assert from "node:assert/strict";
import { looksLikePem, parsePem, PemError, toPem } from "../cli/identity/pem.ts";
import { ROOT } from "./support/run.ts";

const SEEDS = `${ROOT}/tests/fixtures/fuzz-seeds`;

Deno.test("blocks in order, text between them skipped, CRLF and indentation tolerated", () => {
  const text = [
    "Bag Attributes",
    "    localKeyID: 01 02",
    "-----BEGIN CERTIFICATE-----",
    "AAEC",
    "AwQ=",
    "-----END CERTIFICATE-----",
    "subject=CN = x",
    "  -----BEGIN PRIVATE KEY-----  ",
    "  /w==",
    "  -----END PRIVATE KEY-----",
    "",
  ].join("\r\n");
  const blocks = parsePem(text);
  assert.deepEqual(blocks.map((block) => [block.label, [...block.bytes]]), [
    ["CERTIFICATE", [0, 1, 2, 3, 4]],
    ["PRIVATE KEY", [255]],
  ]);
  assert.ok(looksLikePem(text));
  assert.equal(looksLikePem("Bag Attributes\n-----BEGIN lowercase-----\n"), false);
  assert.deepEqual(parsePem("no blocks here"), []);
});

Deno.test("legacy encrypted-key headers are read; a header-like line after the body is not a header", async () => {
  const [legacy] = parsePem(await Deno.readTextFile(`${SEEDS}/rsa-legacy-aes256.pem`));
  assert.equal(legacy.label, "RSA PRIVATE KEY");
  assert.equal(legacy.headers["Proc-Type"], "4,ENCRYPTED");
  assert.match(legacy.headers["DEK-Info"], /^AES-256-CBC,[0-9A-F]{32}$/);
  assert.equal(legacy.bytes.length % 16, 0, "whole AES blocks");
  assert.throws(() => parsePem("-----BEGIN X-----\nAAAA\nName: v\n-----END X-----\n"), PemError);
});

Deno.test("malformed blocks are PemErrors that say what is wrong", () => {
  const cases: [string, RegExp][] = [
    [
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n",
      /"BEGIN CERTIFICATE" is closed by "END PRIVATE KEY"/,
    ],
    ["-----BEGIN CERTIFICATE-----\nAAAA\n", /"BEGIN CERTIFICATE" has no END line \(file truncated\?\)/],
    ["-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", /the CERTIFICATE block is empty/],
    ["-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----\n", /the CERTIFICATE block is not valid base64/],
    ["-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n", /the CERTIFICATE block is not valid base64/],
    ["-----BEGIN CERTIFICATE-----\nA=AA\n-----END CERTIFICATE-----\n", /the CERTIFICATE block is not valid base64/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parsePem(text), (error) => error instanceof PemError && message.test(error.message), text);
  }
});

Deno.test("toPem writes 64 columns as openssl does, and parsePem reads it back", async () => {
  const opensslPem = await Deno.readTextFile(`${SEEDS}/rsa-cert.pem`);
  const [certificate] = parsePem(opensslPem);
  assert.equal(toPem("CERTIFICATE", certificate.bytes), opensslPem);
  for (const length of [0, 1, 47, 48, 49, 96, 1000]) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 37) & 0xff);
    const pem = toPem("X", bytes);
    assert.ok(pem.split("\n").every((line) => line.length <= 64), `${length} bytes`);
    if (length === 0) continue; // an empty block is refused on reading
    assert.deepEqual([...parsePem(pem)[0].bytes], [...bytes], `${length} bytes`);
  }
});
