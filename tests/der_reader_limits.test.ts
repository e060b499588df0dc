/**
 * The DER reader turns malformed values into DerErrors (which callers report as one line) rather
 * than wrong answers or other exceptions: an OBJECT IDENTIFIER cut inside an arc or with an arc
 * past 2^53 (read as "2.NaN" or rounded before), a UniversalString holding a value that is no
 * character (a RangeError before).
 */
import assert from "node:assert/strict";
import { DerError, readDocument, readOid, readString, tlv } from "../cli/identity/der.ts";

const node = (tag: number, content: number[]) => readDocument(tlv(tag, Uint8Array.from(content)));

Deno.test("an OBJECT IDENTIFIER cut inside an arc, or with an arc past 2^53, is a DerError", () => {
  assert.equal(readOid(node(0x06, [0x2a, 0x86, 0x48])), "1.2.840");
  assert.throws(() => readOid(node(0x06, [0x2a, 0x86])), DerError);
  assert.throws(() => readOid(node(0x06, [0x88])), DerError);
  assert.throws(() => readOid(node(0x06, [0x2a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])), DerError);
});

Deno.test("a UniversalString value above U+10FFFF is a DerError", () => {
  assert.equal(readString(node(0x1c, [0, 0, 0, 0x41])), "A");
  assert.throws(() => readString(node(0x1c, [0xff, 0xff, 0xff, 0xff])), DerError);
});
