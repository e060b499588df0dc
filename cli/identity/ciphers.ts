/**
 * The block ciphers and key-derivation functions that protect private key files.
 * AES-CBC and PBKDF2 go through WebCrypto; DES-EDE3, MD5 (legacy PEM's EVP_BytesToKey),
 * scrypt and SHA-224 exist only in node:crypto, which is imported on first use so the
 * credential cache's fast path never pays for it.
 */

export type CipherName = "aes-128-cbc" | "aes-192-cbc" | "aes-256-cbc" | "des-ede3-cbc";

export const CIPHERS: Record<CipherName, { keyLength: number; ivLength: number }> = {
  "aes-128-cbc": { keyLength: 16, ivLength: 16 },
  "aes-192-cbc": { keyLength: 24, ivLength: 16 },
  "aes-256-cbc": { keyLength: 32, ivLength: 16 },
  "des-ede3-cbc": { keyLength: 24, ivLength: 8 },
};

/** Padding or key failure while decrypting: with a well-formed file, a wrong passphrase. */
export class DecryptError extends Error {
  constructor() {
    super("bad decrypt");
    this.name = "DecryptError";
  }
}

type NodeCrypto = typeof import("node:crypto");
let nodeCrypto: Promise<NodeCrypto> | undefined;
function loadNodeCrypto(): Promise<NodeCrypto> {
  nodeCrypto ??= import("node:crypto");
  return nodeCrypto;
}

function buffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(bytes);
}

export async function cbcDecrypt(
  cipher: CipherName,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (data.length === 0 || data.length % CIPHERS[cipher].ivLength !== 0) throw new DecryptError();
  if (cipher === "des-ede3-cbc") {
    const { createDecipheriv } = await loadNodeCrypto();
    try {
      const decipher = createDecipheriv(cipher, key, iv);
      return buffer(new Uint8Array([...decipher.update(data), ...decipher.final()]));
    } catch {
      throw new DecryptError();
    }
  }
  const cryptoKey = await crypto.subtle.importKey("raw", buffer(key), "AES-CBC", false, ["decrypt"]);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-CBC", iv: buffer(iv) }, cryptoKey, buffer(data)),
    );
  } catch {
    throw new DecryptError();
  }
}

export async function cbcEncrypt(
  cipher: CipherName,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (cipher === "des-ede3-cbc") {
    const { createCipheriv } = await loadNodeCrypto();
    const encipher = createCipheriv(cipher, key, iv);
    return buffer(new Uint8Array([...encipher.update(data), ...encipher.final()]));
  }
  const cryptoKey = await crypto.subtle.importKey("raw", buffer(key), "AES-CBC", false, ["encrypt"]);
  return new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv: buffer(iv) }, cryptoKey, buffer(data)),
  );
}

export type PrfHash = "SHA-1" | "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512";

export async function pbkdf2(
  passphrase: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  hash: PrfHash,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (hash === "SHA-224") {
    const { pbkdf2Sync } = await loadNodeCrypto();
    return buffer(pbkdf2Sync(passphrase, salt, iterations, length, "sha224"));
  }
  const base = await crypto.subtle.importKey("raw", buffer(passphrase), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", salt: buffer(salt), iterations, hash },
      base,
      length * 8,
    ),
  );
}

export async function scrypt(
  passphrase: Uint8Array,
  salt: Uint8Array,
  parameters: { cost: number; blockSize: number; parallelization: number },
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const { scryptSync } = await loadNodeCrypto();
  const { cost: N, blockSize: r, parallelization: p } = parameters;
  // node:crypto's own default ceiling is 32 MiB; the caller has already bounded N, r and p.
  return buffer(scryptSync(passphrase, salt, length, { N, r, p, maxmem: 128 * r * (N + p + 2) + 1024 * 1024 }));
}

/** OpenSSL's EVP_BytesToKey with MD5 and one iteration: the key derivation of legacy PEM. */
export async function evpBytesToKey(
  passphrase: Uint8Array,
  salt: Uint8Array,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const { createHash } = await loadNodeCrypto();
  const out: number[] = [];
  let previous = new Uint8Array(0);
  while (out.length < length) {
    previous = new Uint8Array(createHash("md5").update(previous).update(passphrase).update(salt).digest());
    out.push(...previous);
  }
  return Uint8Array.from(out.slice(0, length));
}

/**
 * The PKCS#12 key derivation (RFC 7292, appendix B.2) with SHA-1, used by PBES1
 * pbeWithSHAAnd3-KeyTripleDES-CBC. `id` is 1 for key material, 2 for the IV.
 */
export async function pkcs12Kdf(
  passphrase: string,
  salt: Uint8Array,
  iterations: number,
  id: 1 | 2,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const { createHash } = await loadNodeCrypto();
  const u = 20; // SHA-1 output
  const v = 64; // SHA-1 block
  const password = bmpString(passphrase);
  const fill = (source: Uint8Array) => {
    if (source.length === 0) return new Uint8Array(0);
    const out = new Uint8Array(v * Math.ceil(source.length / v));
    for (let i = 0; i < out.length; i++) out[i] = source[i % source.length];
    return out;
  };
  const d = new Uint8Array(v).fill(id);
  const i = new Uint8Array([...fill(salt), ...fill(password)]);
  const result: number[] = [];
  while (result.length < length) {
    const a = rehashSha1(new Uint8Array(createHash("sha1").update(d).update(i).digest()), iterations - 1);
    result.push(...a.subarray(0, Math.min(u, length - result.length)));
    if (result.length >= length) break;
    const b = fill(a).subarray(0, v);
    for (let block = 0; block < i.length; block += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[block + k] + b[k] + carry;
        i[block + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Uint8Array.from(result);
}

/**
 * SHA-1 applied `rounds` more times to a 20-byte digest, in JavaScript: a 20-byte message is one
 * padded block, and a node:crypto hash object per round costs about 20 µs (a million-iteration
 * PBES1 key took a minute); this loop takes well under 1 µs a round.
 */
export function rehashSha1(digest: Uint8Array, rounds: number): Uint8Array {
  const view = new DataView(digest.buffer, digest.byteOffset, 20);
  let h0 = view.getUint32(0), h1 = view.getUint32(4), h2 = view.getUint32(8);
  let h3 = view.getUint32(12), h4 = view.getUint32(16);
  const w = new Int32Array(80);
  for (let round = 0; round < rounds; round++) {
    w[0] = h0, w[1] = h1, w[2] = h2, w[3] = h3, w[4] = h4, w[5] = 0x80000000;
    w.fill(0, 6, 15);
    w[15] = 160; // the message length in bits
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476, e = 0xc3d2e1f0;
    const step = (t: number, f: number) => {
      const next = (((a << 5) | (a >>> 27)) + f + e + w[t]) | 0;
      e = d, d = c, c = (b << 30) | (b >>> 2), b = a, a = next;
    };
    for (let t = 0; t < 20; t++) step(t, ((b & c) | (~b & d)) + 0x5a827999);
    for (let t = 20; t < 40; t++) step(t, (b ^ c ^ d) + 0x6ed9eba1);
    for (let t = 40; t < 60; t++) step(t, ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc);
    for (let t = 60; t < 80; t++) step(t, (b ^ c ^ d) + 0xca62c1d6);
    // Each round hashes a fresh message, so the chaining values restart from SHA-1's IV.
    h0 = (a + 0x67452301) | 0, h1 = (b + 0xefcdab89) | 0, h2 = (c + 0x98badcfe) | 0;
    h3 = (d + 0x10325476) | 0, h4 = (e + 0xc3d2e1f0) | 0;
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  [h0, h1, h2, h3, h4].forEach((word, index) => outView.setUint32(index * 4, word >>> 0));
  return out;
}

/** UTF-16BE with a terminating NUL, as PKCS#12 encodes passwords. */
function bmpString(text: string): Uint8Array {
  if (text.length === 0) return new Uint8Array(0);
  const out = new Uint8Array(text.length * 2 + 2);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out[i * 2] = code >> 8;
    out[i * 2 + 1] = code & 0xff;
  }
  return out;
}
