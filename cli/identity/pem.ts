/**
 * PEM (RFC 7468) blocks: label, the legacy RFC 1421 headers OpenSSL writes for
 * `Proc-Type: 4,ENCRYPTED` keys, and the decoded bytes. Pure functions.
 *
 * @example
 * ```ts
 * const [block] = parsePem("-----BEGIN X-----\nAAE=\n-----END X-----\n");
 * console.log(block.label, block.bytes); // "X" Uint8Array [0, 1]
 * ```
 */

export interface PemBlock {
  readonly label: string;
  readonly headers: Record<string, string>;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

export class PemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PemError";
  }
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;
const END = /^-----END ([A-Z0-9 ]+)-----$/;

/** True when the text contains at least one PEM BEGIN line. */
export function looksLikePem(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text);
}

/** Every block in the text, in order. Text outside blocks (openssl's "Bag Attributes") is skipped. */
export function parsePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length) {
    const begin = lines[i].trim().match(BEGIN);
    i++;
    if (!begin) continue;
    const label = begin[1];
    const headers: Record<string, string> = {};
    const body: string[] = [];
    let closed = false;
    for (; i < lines.length; i++) {
      const line = lines[i].trim();
      const end = line.match(END);
      if (end) {
        if (end[1] !== label) throw new PemError(`"BEGIN ${label}" is closed by "END ${end[1]}"`);
        closed = true;
        i++;
        break;
      }
      const header = line.match(/^([A-Za-z-]+):\s*(.*)$/);
      if (header && body.length === 0) {
        headers[header[1]] = header[2];
      } else if (line !== "") {
        body.push(line);
      }
    }
    if (!closed) throw new PemError(`"BEGIN ${label}" has no END line (file truncated?)`);
    const base64 = body.join("");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      throw new PemError(`the ${label} block is not valid base64`);
    }
    if (base64.length === 0) throw new PemError(`the ${label} block is empty`);
    blocks.push({ label, headers, bytes: Uint8Array.fromBase64(base64) });
  }
  return blocks;
}

/** PEM text for bytes, 64 columns as OpenSSL writes it. */
export function toPem(label: string, bytes: Uint8Array): string {
  const base64 = bytes.toBase64();
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
