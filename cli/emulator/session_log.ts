/**
 * The CreateSession log: one entry per CreateSession the emulator answered, naming the
 * certificate it was asked for (serial as in the signature's Credential, SHA-256 fingerprint of
 * the X-Amz-X509 DER) and what came of it, so tests can tell which certificate each session was
 * issued to and how often a client called. No secret goes in: the access key id is there (AWS
 * logs it in CloudTrail too), the secret key and session token are not.
 */

export interface SessionLogEntry {
  /** ISO 8601, the emulator's clock. */
  readonly time: string;
  readonly requestId: string;
  /** 201 when credentials were issued, else the error's status. */
  readonly status: number;
  /** "issued", or the error code answered (AccessDeniedException, ThrottlingException, ...). */
  readonly outcome: string;
  readonly message?: string;
  readonly certificate: {
    /** Decimal, from `Credential=SERIAL/...`: equal to the certificate's when it was issued. */
    readonly serial: string;
    /** Lower-case hex SHA-256 of the X-Amz-X509 DER; absent when the header is not base64. */
    readonly fingerprintSha256?: string;
  };
  readonly trustAnchorArn?: string;
  readonly profileArn?: string;
  readonly roleArn?: string;
  readonly roleSessionName?: string;
  readonly accessKeyId?: string;
  readonly expiration?: string;
}

export type SessionLogger = (entry: SessionLogEntry) => void | Promise<void>;

/** The DER of an X-Amz-X509 header, or undefined when it is not base64. */
export function certificateDer(header: string | null): Uint8Array<ArrayBuffer> | undefined {
  if (!header) return undefined;
  try {
    return Uint8Array.fromBase64(header.trim());
  } catch {
    return undefined;
  }
}

/**
 * Appends each entry as a JSON line to `path` (0600), one write after another; an entry is on
 * disk before the answer it describes goes out, so a test that got its answer can read it.
 */
export async function jsonLinesLogger(path: string): Promise<{ log: SessionLogger; close(): Promise<void> }> {
  const file = await Deno.open(path, { create: true, append: true, mode: 0o600 });
  let writing = Promise.resolve();
  const encoder = new TextEncoder();
  return {
    log(entry) {
      const line = encoder.encode(JSON.stringify(entry) + "\n");
      const written = writing.then(async () => {
        for (let done = 0; done < line.length;) done += await file.write(line.subarray(done));
      });
      writing = written.catch(() => {});
      return written;
    },
    async close() {
      await writing;
      file.close();
    },
  };
}

/** Reads a log written by jsonLinesLogger. */
export function parseSessionLog(text: string): SessionLogEntry[] {
  return text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line));
}
