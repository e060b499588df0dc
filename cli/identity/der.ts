/**
 * A minimal DER (ASN.1) reader and writer: enough for X.509 certificates, PKCS#1/#8 and SEC1
 * keys, PKCS#5 encryption parameters and ECDSA signatures. Pure functions over bytes.
 *
 * @example
 * ```ts
 * const node = readNode(sequence(integer(5n)));
 * console.log(readInteger(childrenOf(node)[0])); // 5n
 * ```
 */

import { quoted } from "../errors.ts";

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DerError";
  }
}

/** One TLV: where its header starts, where its value starts and ends, in `bytes`. */
export interface DerNode {
  readonly bytes: Uint8Array;
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

/** Context-specific tag number n, constructed (EXPLICIT) or primitive (IMPLICIT). */
export function contextTag(n: number, constructed: boolean): number {
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

/** Reads the TLV at `offset`; throws DerError on anything truncated or not DER-shaped. */
export function readNode(bytes: Uint8Array, offset = 0): DerNode {
  if (offset + 2 > bytes.length) throw new DerError("truncated DER header");
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte DER tags are not supported");
  let length = bytes[offset + 1];
  let valueStart = offset + 2;
  if (length === 0x80) throw new DerError("indefinite-length encoding is not DER");
  if (length > 0x80) {
    const count = length & 0x7f;
    if (count > 4) throw new DerError("DER length too large");
    if (valueStart + count > bytes.length) throw new DerError("truncated DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[valueStart + i];
    valueStart += count;
  }
  const end = valueStart + length;
  if (end > bytes.length) throw new DerError("truncated DER value");
  return { bytes, tag, start: offset, valueStart, end };
}

/** Parses a whole buffer that must hold exactly one TLV. */
export function readDocument(bytes: Uint8Array): DerNode {
  const node = readNode(bytes, 0);
  if (node.end !== bytes.length) throw new DerError("trailing bytes after DER value");
  return node;
}

export function valueOf(node: DerNode): Uint8Array {
  return node.bytes.subarray(node.valueStart, node.end);
}

export function encodedOf(node: DerNode): Uint8Array {
  return node.bytes.subarray(node.start, node.end);
}

export function childrenOf(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0) throw new DerError("expected a constructed DER value");
  const children: DerNode[] = [];
  let offset = node.valueStart;
  while (offset < node.end) {
    const child = readNode(node.bytes, offset);
    if (child.end > node.end) throw new DerError("DER child overruns its parent");
    children.push(child);
    offset = child.end;
  }
  return children;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError(`missing ${what}`);
  if (node.tag !== tag) {
    throw new DerError(`expected ${what} (tag 0x${tag.toString(16)}), got 0x${node.tag.toString(16)}`);
  }
  return node;
}

/** Children of a SEQUENCE, checking the tag. */
export function sequenceOf(node: DerNode | undefined, what: string): DerNode[] {
  return childrenOf(expectTag(node, TAG.SEQUENCE, what));
}

/** A signed big-endian two's complement INTEGER. */
export function readInteger(node: DerNode): bigint {
  expectTag(node, TAG.INTEGER, "INTEGER");
  const value = valueOf(node);
  if (value.length === 0) throw new DerError("empty INTEGER");
  // Through hex, in linear time: shifting byte by byte is quadratic (0.6 s for a 64 KB serial).
  let result = BigInt(`0x${value.toHex()}`);
  if (value[0] & 0x80) result -= 1n << BigInt(value.length * 8);
  return result;
}

/** The INTEGER's magnitude bytes without sign padding (for RSA moduli and ECDSA r, s). */
export function readUnsignedBytes(node: DerNode): Uint8Array {
  expectTag(node, TAG.INTEGER, "INTEGER");
  const value = valueOf(node);
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  return value.subarray(i);
}

export function readSmallInteger(node: DerNode, what: string): number {
  const value = readInteger(node);
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DerError(`${what} out of range`);
  }
  return Number(value);
}

export function readOid(node: DerNode): string {
  expectTag(node, TAG.OID, "OBJECT IDENTIFIER");
  const value = valueOf(node);
  if (value.length === 0) throw new DerError("empty OBJECT IDENTIFIER");
  if (value[value.length - 1] & 0x80) throw new DerError("truncated OBJECT IDENTIFIER");
  const parts: number[] = [];
  let current = 0;
  for (const byte of value) {
    current = current * 128 + (byte & 0x7f);
    if (current > Number.MAX_SAFE_INTEGER) throw new DerError("OBJECT IDENTIFIER arc too large");
    if ((byte & 0x80) === 0) {
      parts.push(current);
      current = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts].join(".");
}

export function readBoolean(node: DerNode): boolean {
  expectTag(node, TAG.BOOLEAN, "BOOLEAN");
  return valueOf(node)[0] !== 0;
}

export function readOctetString(node: DerNode): Uint8Array {
  return valueOf(expectTag(node, TAG.OCTET_STRING, "OCTET STRING"));
}

/** BIT STRING contents; `bits` keeps the unused-bits count for flag sets like keyUsage. */
export function readBitString(node: DerNode): { bytes: Uint8Array; unusedBits: number } {
  const value = valueOf(expectTag(node, TAG.BIT_STRING, "BIT STRING"));
  if (value.length === 0) throw new DerError("empty BIT STRING");
  return { bytes: value.subarray(1), unusedBits: value[0] };
}

/** Any of the X.509 string types, decoded to a JS string. */
export function readString(node: DerNode): string {
  const value = valueOf(node);
  switch (node.tag) {
    case TAG.BMP_STRING: {
      let out = "";
      for (let i = 0; i + 1 < value.length; i += 2) {
        out += String.fromCharCode((value[i] << 8) | value[i + 1]);
      }
      return out;
    }
    case TAG.UNIVERSAL_STRING: {
      let out = "";
      for (let i = 0; i + 3 < value.length; i += 4) {
        const code = ((value[i] << 24) | (value[i + 1] << 16) | (value[i + 2] << 8) | value[i + 3]) >>> 0;
        if (code > 0x10ffff) throw new DerError("UniversalString holds a value that is not a character");
        out += String.fromCodePoint(code);
      }
      return out;
    }
    case TAG.T61_STRING:
      return Array.from(value, (b) => String.fromCharCode(b)).join("");
    default:
      return new TextDecoder().decode(value);
  }
}

/** UTCTime or GeneralizedTime (the Z forms DER requires). */
export function readTime(node: DerNode): Date {
  const text = new TextDecoder().decode(valueOf(node));
  let match: RegExpMatchArray | null;
  if (node.tag === TAG.UTC_TIME) {
    match = text.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/);
    if (match) {
      const yy = Number(match[1]);
      const year = yy >= 50 ? 1900 + yy : 2000 + yy;
      return utc(year, match.slice(2));
    }
  } else if (node.tag === TAG.GENERALIZED_TIME) {
    match = text.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/);
    if (match) return utc(Number(match[1]), match.slice(2));
  }
  throw new DerError(`unsupported time value ${quoted(text)}`);
}

function utc(year: number, rest: string[]): Date {
  const [month, day, hour, minute, second] = rest.map(Number);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

// ---- writer ----

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, content: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes([Uint8Array.of(tag), encodeLength(content.length), content]);
}

export function sequence(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return tlv(TAG.SEQUENCE, concatBytes(parts));
}

/** INTEGER from a bigint, or from unsigned magnitude bytes (adds the sign byte when needed). */
export function integer(value: bigint | Uint8Array): Uint8Array<ArrayBuffer> {
  if (value instanceof Uint8Array) {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    const magnitude = value.subarray(i);
    const padded = magnitude[0] & 0x80 ? concatBytes([Uint8Array.of(0), magnitude]) : magnitude;
    return tlv(TAG.INTEGER, padded.length ? padded : Uint8Array.of(0));
  }
  if (value < 0n) throw new DerError("negative INTEGER encoding is not supported");
  let hex = value.toString(16);
  if (hex.length % 2) hex = "0" + hex;
  return integer(Uint8Array.fromHex(hex));
}

export function octetString(content: Uint8Array): Uint8Array<ArrayBuffer> {
  return tlv(TAG.OCTET_STRING, content);
}

export function nullValue(): Uint8Array<ArrayBuffer> {
  return Uint8Array.of(TAG.NULL, 0);
}

export function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const parts = dotted.split(".").map(Number);
  const bytes: number[] = [];
  const encodeArc = (arc: number) => {
    const chunk: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) {
      chunk.unshift(0x80 | (n & 0x7f));
    }
    bytes.push(...chunk);
  };
  encodeArc(parts[0] * 40 + parts[1]);
  for (const arc of parts.slice(2)) encodeArc(arc);
  return tlv(TAG.OID, Uint8Array.from(bytes));
}

/** [n] EXPLICIT wrapper around an encoded value. */
export function explicit(n: number, inner: Uint8Array): Uint8Array<ArrayBuffer> {
  return tlv(contextTag(n, true), inner);
}

// ---- ECDSA signature formats ----

/** WebCrypto gives r||s; X.509 and Roles Anywhere want DER SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.length / 2;
  return sequence(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

/** The reverse, for verifying DER signatures with WebCrypto; `size` is the curve's byte length. */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const [r, s] = sequenceOf(readDocument(der), "ECDSA signature");
  const out = new Uint8Array(size * 2);
  for (const [index, part] of [r, s].entries()) {
    const bytes = readUnsignedBytes(part);
    if (bytes.length > size) throw new DerError("ECDSA signature component too long");
    out.set(bytes, index * size + size - bytes.length);
  }
  return out;
}
