/**
 * DER INTEGERs (certificate serials among them) are read in linear time and exactly: a 64 KiB
 * INTEGER reads back to the value that encodes to the same bytes, within a generous bound (the
 * byte-by-byte shift it replaces took 0.6 s here), and small, negative and sign-padded values
 * keep their meaning.
 */
import assert from "node:assert/strict";
import { integer, readDocument, readInteger } from "../cli/identity/der.ts";

Deno.test("a 64 KiB INTEGER reads exactly and fast", () => {
  const magnitude = crypto.getRandomValues(new Uint8Array(64 * 1024));
  magnitude[0] |= 0x01;
  const encoded = integer(magnitude);
  const started = performance.now();
  const value = readInteger(readDocument(encoded));
  const elapsed = performance.now() - started;
  assert.deepEqual(integer(value), encoded);
  assert.ok(elapsed < 200, `reading took ${elapsed.toFixed(0)} ms`);
});

Deno.test("small, negative and sign-padded INTEGERs", () => {
  const read = (...bytes: number[]) => readInteger(readDocument(new Uint8Array([0x02, bytes.length, ...bytes])));
  assert.equal(read(0x00), 0n);
  assert.equal(read(0x7f), 127n);
  assert.equal(read(0x00, 0x80), 128n);
  assert.equal(read(0xff), -1n);
  assert.equal(read(0x80), -128n);
  assert.equal(read(0x01, 0x00), 256n);
});
