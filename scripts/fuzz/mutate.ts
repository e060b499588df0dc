/**
 * Deterministic mutations of key and certificate files for the fuzz target: byte-level edits of
 * the DER, structure-aware edits of its ASN.1 tree (lengths re-encoded, so an edit reaches the
 * parser deep inside instead of failing at the outer length), edits of the PEM text, and edits
 * of an encrypted key's plaintext, re-encrypted so they reach the key parser behind the cipher.
 * Everything derives from a Random: the same seed and index give the same input.
 */
import { cbcEncrypt, evpBytesToKey } from "../../cli/identity/ciphers.ts";
import { concatBytes, type DerNode, oid, readNode, tlv } from "../../cli/identity/der.ts";
import { encryptPkcs8 } from "../../cli/identity/key_encryption.ts";
import { OID } from "../../cli/identity/oids.ts";
import { looksLikePem, parsePem, type PemBlock, toPem } from "../../cli/identity/pem.ts";

/** xorshift128+, seeded through splitmix32 so nearby (seed, index) pairs give unrelated streams. */
export class Random {
  #s: Uint32Array;
  constructor(seed: number, index = 0) {
    let x = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
    const mix = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s = Uint32Array.of(mix(), mix(), mix(), mix() | 1);
  }
  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const s = this.#s;
    let t = s[3];
    const u = s[0];
    s[3] = s[2], s[2] = s[1], s[1] = u;
    t ^= t << 11;
    t ^= t >>> 8;
    s[0] = (t ^ u ^ (u >>> 19)) >>> 0;
    return s[0];
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  bytes(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

// ---- the ASN.1 tree ----

/** A TLV; constructed ones have children, OCTET/BIT STRINGs that hold DER have `inner`. */
interface Node {
  tag: number;
  value?: Uint8Array;
  children?: Node[];
  /** DER inside a primitive: a BIT STRING's unused-bits byte stays in `prefix`. */
  inner?: { prefix: Uint8Array; node: Node };
}

function parseRun(bytes: Uint8Array, start: number, end: number, depth: number): Node[] | undefined {
  const nodes: Node[] = [];
  let offset = start;
  while (offset < end) {
    let node: DerNode;
    try {
      node = readNode(bytes, offset);
    } catch {
      return undefined;
    }
    if (node.end > end) return undefined;
    nodes.push(toTree(node, depth + 1));
    offset = node.end;
  }
  return nodes;
}

function toTree(node: DerNode, depth = 0): Node {
  const value = node.bytes.subarray(node.valueStart, node.end);
  if ((node.tag & 0x20) && depth < 24) {
    const children = parseRun(node.bytes, node.valueStart, node.end, depth);
    if (children) return { tag: node.tag, children };
  }
  // Encapsulated DER: PKCS#8's privateKey, a SubjectPublicKeyInfo's key, extension values.
  const prefixLength = node.tag === 0x03 ? 1 : node.tag === 0x04 || (node.tag & 0xe0) === 0x80 ? 0 : -1;
  if (prefixLength >= 0 && value.length > prefixLength + 1 && (value[prefixLength] & 0x20) && depth < 24) {
    try {
      const innerNode = readNode(value, prefixLength);
      if (innerNode.end === value.length) {
        return {
          tag: node.tag,
          inner: { prefix: value.subarray(0, prefixLength), node: toTree(innerNode, depth + 1) },
        };
      }
    } catch {
      // not DER inside: plain bytes
    }
  }
  return { tag: node.tag, value };
}

function encode(node: Node): Uint8Array<ArrayBuffer> {
  if (node.children) return tlv(node.tag, concatBytes(node.children.map(encode)));
  if (node.inner) return tlv(node.tag, concatBytes([node.inner.prefix, encode(node.inner.node)]));
  return tlv(node.tag, node.value ?? new Uint8Array(0));
}

function parseTree(der: Uint8Array): Node | undefined {
  try {
    const root = readNode(der, 0);
    return root.end === der.length ? toTree(root) : undefined;
  } catch {
    return undefined;
  }
}

/** Every node with its parent's child list, for edits that remove or add siblings. */
function flatten(root: Node): { node: Node; siblings?: Node[] }[] {
  const out: { node: Node; siblings?: Node[] }[] = [{ node: root }];
  const walk = (node: Node) => {
    for (const child of node.children ?? []) {
      out.push({ node: child, siblings: node.children });
      walk(child);
    }
    if (node.inner) {
      out.push({ node: node.inner.node });
      walk(node.inner.node);
    }
  };
  walk(root);
  return out;
}

const TAGS = [
  0x01,
  0x02,
  0x03,
  0x04,
  0x05,
  0x06,
  0x0c,
  0x13,
  0x14,
  0x16,
  0x17,
  0x18,
  0x1c,
  0x1e,
  0x30,
  0x31,
  0x80,
  0x81,
  0x82,
  0x86,
  0x87,
  0xa0,
  0xa1,
  0xa3,
  0xa4,
  0x1f,
  0x00,
  0xff,
];
const KNOWN_OIDS = Object.values(OID);

/**
 * Integers that sit on the edges parsers and KDFs care about, as big-endian two's complement:
 * just above each KDF limit, but none that makes a legal and costly KDF (an iteration count
 * between 10^6 and 10^7, a scrypt r of 1024 on the seeds' N=1024): such an input takes seconds
 * by design, and is not what the run times.
 */
function interestingInteger(random: Random): Uint8Array {
  const values = [
    0n,
    1n,
    -1n,
    2n,
    3n,
    127n,
    128n,
    255n,
    256n,
    65535n,
    2n ** 24n,
    10n ** 6n + 1n,
    10n ** 7n + 1n,
    2n ** 31n - 1n,
    2n ** 31n,
    2n ** 32n - 1n,
    2n ** 32n,
    2n ** 53n + 1n,
    2n ** 63n,
    2n ** 64n,
    -(2n ** 31n),
  ];
  if (random.chance(0.1)) return random.bytes(1 + random.below(random.chance(0.2) ? 200_000 : 600));
  const value = random.pick(values);
  let bytes = 1;
  while (value < -(1n << BigInt(bytes * 8 - 1)) || value >= 1n << BigInt(bytes * 8 - 1)) bytes++;
  const modulus = 1n << BigInt(bytes * 8);
  const minimal = Uint8Array.fromHex((((value % modulus) + modulus) % modulus).toString(16).padStart(bytes * 2, "0"));
  // Now and then a redundant sign byte, which DER forbids and lenient parsers accept.
  if (!random.chance(0.1)) return minimal;
  return concatBytes([Uint8Array.of(value < 0n ? 0xff : 0), minimal]);
}

function mutateValue(value: Uint8Array, random: Random): Uint8Array {
  const copy = Uint8Array.from(value);
  switch (random.below(7)) {
    case 0:
      return new Uint8Array(0);
    case 1:
      if (copy.length) copy[random.below(copy.length)] ^= 1 << random.below(8);
      return copy;
    case 2:
      if (copy.length) copy[random.below(copy.length)] = random.pick([0, 0x7f, 0x80, 0xff, random.below(256)]);
      return copy;
    case 3:
      return copy.subarray(0, random.below(copy.length + 1));
    case 4:
      return concatBytes([copy, random.bytes(1 + random.below(64))]);
    case 5: // one large value: what a hostile file would carry
      return new Uint8Array(random.chance(0.5) ? 70_000 : 1 + random.below(5_000)).fill(random.below(256));
    default:
      return random.bytes(copy.length);
  }
}

const TIMES = [
  "",
  "Z",
  "991332246060Z",
  "000229000000Z",
  "20501301000000Z",
  "00000101000000Z",
  "99991231235959Z",
  "20250101000000.123456789Z",
  "2025010100000Z",
  "250101000000+0100",
];

function mutateNode(root: Node, random: Random, donors: readonly Node[]): Node {
  const entries = flatten(root);
  const { node, siblings } = random.pick(entries);
  const primitive = () => {
    delete node.children;
    delete node.inner;
  };
  switch (random.below(11)) {
    case 0:
      primitive();
      node.tag = 0x02;
      node.value = interestingInteger(random);
      break;
    case 1:
      if (node.value) node.value = mutateValue(node.value, random);
      else if (node.children?.length) node.children.splice(random.below(node.children.length), 1);
      break;
    case 2:
      node.tag = random.pick(TAGS);
      break;
    case 3:
      if (siblings) siblings.splice(siblings.indexOf(node), 1);
      break;
    case 4:
      if (siblings) {
        const copies = random.chance(0.1) ? 200 : 1;
        siblings.splice(siblings.indexOf(node), 0, ...Array.from({ length: copies }, () => structuredClone(node)));
      }
      break;
    case 5:
      if (siblings && siblings.length > 1) {
        const i = siblings.indexOf(node);
        const j = random.below(siblings.length);
        [siblings[i], siblings[j]] = [siblings[j], siblings[i]];
      }
      break;
    case 6:
      primitive();
      node.tag = 0x06;
      node.value = random.chance(0.8) ? valueOfOid(random.pick(KNOWN_OIDS)) : random.pick([
        Uint8Array.of(0x2a, 0x86),
        Uint8Array.of(0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
      ]);
      break;
    case 7:
      primitive();
      node.tag = random.pick([0x17, 0x18]);
      node.value = new TextEncoder().encode(random.pick(TIMES));
      break;
    case 8: {
      const wrapped = structuredClone(node);
      primitive();
      node.tag = 0x30;
      delete node.value;
      node.children = [wrapped];
      break;
    }
    case 9: // splice in a node from another seed: type confusion across structures
      if (donors.length) {
        const donor = random.pick(flatten(random.pick(donors))).node;
        primitive();
        Object.assign(node, structuredClone(donor));
      }
      break;
    default:
      if (node.children) node.children = [];
      else if (node.value) node.value = new Uint8Array(0);
  }
  return root;
}

function valueOfOid(dotted: string): Uint8Array {
  const node = readNode(oid(dotted));
  return node.bytes.subarray(node.valueStart, node.end);
}

function mutateBytes(bytes: Uint8Array, random: Random): Uint8Array {
  let out: Uint8Array = Uint8Array.from(bytes);
  const at = () => random.below(out.length + 1);
  switch (random.below(6)) {
    case 0:
      if (out.length) out[random.below(out.length)] ^= 1 << random.below(8);
      break;
    case 1:
      if (out.length) out[random.below(out.length)] = random.pick([0, 0x80, 0x81, 0x84, 0xff, random.below(256)]);
      break;
    case 2: {
      const start = at();
      out = concatBytes([out.subarray(0, start), out.subarray(Math.min(out.length, start + 1 + random.below(32)))]);
      break;
    }
    case 3: {
      const start = at();
      out = concatBytes([out.subarray(0, start), random.bytes(1 + random.below(16)), out.subarray(start)]);
      break;
    }
    case 4:
      out = out.subarray(0, at());
      break;
    default: {
      const start = random.below(out.length);
      const piece = out.slice(start, start + 1 + random.below(64));
      const where = at();
      out = concatBytes([out.subarray(0, where), piece, out.subarray(where)]);
    }
  }
  return out;
}

/** A mutated copy of DER bytes: tree edits (most), byte edits, or both. */
export function mutateDer(der: Uint8Array, random: Random, donors: readonly Node[] = []): Uint8Array {
  const tree = parseTree(der);
  let out: Uint8Array = der;
  if (tree && random.chance(0.75)) {
    const edits = 1 + random.below(3);
    let mutated = tree;
    for (let i = 0; i < edits; i++) mutated = mutateNode(mutated, random, donors);
    out = encode(mutated);
  }
  if (!tree || random.chance(0.35)) out = mutateBytes(out, random);
  return out;
}

/** Parsed trees of the seeds, as donors for cross-seed splices. */
export function donorTrees(ders: readonly Uint8Array[]): Node[] {
  return ders.map(parseTree).filter((tree): tree is Node => tree !== undefined);
}

// ---- PEM ----

const LABELS = [
  "PRIVATE KEY",
  "ENCRYPTED PRIVATE KEY",
  "RSA PRIVATE KEY",
  "EC PRIVATE KEY",
  "CERTIFICATE",
  "DSA PRIVATE KEY",
  "OPENSSH PRIVATE KEY",
  "CERTIFICATE REQUEST",
];

function blockText(block: PemBlock, bytes: Uint8Array, label = block.label): string {
  const headers = Object.entries(block.headers).map(([name, value]) => `${name}: ${value}\n`).join("");
  const pem = toPem(label, bytes);
  if (!headers) return pem;
  const [begin, ...rest] = pem.split("\n");
  return [begin, headers.trimEnd(), "", ...rest].join("\n");
}

function mutatePemText(text: string, random: Random): string {
  const lines = text.split("\n");
  switch (random.below(7)) {
    case 0: {
      const i = lines.findIndex((line) => line.startsWith("-----BEGIN"));
      const label = random.pick(LABELS);
      lines[i] = `-----BEGIN ${label}-----`;
      const j = lines.findIndex((line, index) => index > i && line.startsWith("-----END"));
      if (j >= 0 && random.chance(0.8)) lines[j] = `-----END ${label}-----`;
      return lines.join("\n");
    }
    case 1:
      return lines.filter((line) => !line.startsWith("-----END")).join("\n");
    case 2: {
      const i = random.below(lines.length);
      lines[i] = lines[i].slice(0, random.below(lines[i].length + 1)) + random.pick(["!", "=", "==", "*", " ", "\t"]) +
        lines[i].slice(random.below(lines[i].length + 1));
      return lines.join("\n");
    }
    case 3:
      return text.replaceAll("\n", "\r\n");
    case 4:
      return text.replace(
        /DEK-Info: [^\n]*/,
        `DEK-Info: ${random.pick(["AES-128-CBC", "AES-256-CBC", "DES-EDE3-CBC", "BF-CBC", ""])},${
          random.pick(["", "00", "zz", "0011223344556677", "00112233445566778899aabbccddeeff", "0".repeat(5000)])
        }`,
      ).replace(
        /^-----BEGIN ([A-Z ]+)-----\n(?!Proc-Type)/,
        (line) =>
          random.chance(0.5)
            ? `${line}Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n`
            : line,
      );
    case 5:
      return text + text;
    default:
      return text.slice(0, random.below(text.length + 1));
  }
}

/** What the mutator needs to know about an encrypted seed to mutate behind the cipher. */
export interface Plaintext {
  /** The decrypted DER: PKCS#8, or PKCS#1 / SEC1 for legacy PEM. */
  readonly der: Uint8Array;
  readonly legacyLabel?: string;
}

async function reencrypt(plaintext: Plaintext, der: Uint8Array, passphrase: string, random: Random): Promise<string> {
  if (plaintext.legacyLabel) {
    const iv = random.bytes(16);
    const key = await evpBytesToKey(new TextEncoder().encode(passphrase), iv.subarray(0, 8), 16);
    const body = await cbcEncrypt("aes-128-cbc", key, iv, der);
    const pem = toPem(plaintext.legacyLabel, body).split("\n");
    return [pem[0], "Proc-Type: 4,ENCRYPTED", `DEK-Info: AES-128-CBC,${iv.toHex().toUpperCase()}`, "", ...pem.slice(1)]
      .join("\n");
  }
  const encrypted = await encryptPkcs8(der, passphrase, { iterations: 1 + random.below(64), salt: random.bytes(8) });
  return toPem("ENCRYPTED PRIVATE KEY", encrypted);
}

/** One mutated input from a seed file (PEM or DER). */
export async function mutateFile(
  file: Uint8Array,
  random: Random,
  options: { donors?: readonly Node[]; plaintext?: Plaintext; passphrase: string },
): Promise<Uint8Array> {
  if (options.plaintext && random.chance(0.3)) {
    const der = mutateDer(options.plaintext.der, random, options.donors);
    return new TextEncoder().encode(await reencrypt(options.plaintext, der, options.passphrase, random));
  }
  const text = new TextDecoder().decode(file);
  if (!looksLikePem(text)) return mutateDer(file, random, options.donors);
  if (random.chance(0.15)) return new TextEncoder().encode(mutatePemText(text, random));
  const blocks = parsePem(text);
  const target = random.below(blocks.length);
  return new TextEncoder().encode(
    blocks.map((block, index) =>
      index === target
        ? blockText(block, mutateDer(block.bytes, random, options.donors))
        : blockText(block, block.bytes)
    ).join(""),
  );
}
