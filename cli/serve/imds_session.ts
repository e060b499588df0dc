/**
 * IMDSv2 session tokens, as EC2's instance metadata service issues them: `PUT /latest/api/token`
 * with `X-aws-ec2-metadata-token-ttl-seconds` (1 to 21600; botocore and the AWS SDK for JavaScript
 * v3 ask for 21600) returns a token that GETs send back in `X-aws-ec2-metadata-token`. The tokens
 * are stateless: the expiry and an HMAC of it under a key made at start, so any number of clients
 * costs no memory and a restart revokes them all.
 */

export const TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
export const TOKEN_HEADER = "x-aws-ec2-metadata-token";
export const MAX_TTL_SECONDS = 21600;

export class ImdsSessions {
  private constructor(private readonly key: CryptoKey) {}

  static async create(): Promise<ImdsSessions> {
    const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    return new ImdsSessions(key);
  }

  async issue(ttlSeconds: number, now: Date): Promise<string> {
    const expiry = new Uint8Array(8);
    new DataView(expiry.buffer).setBigUint64(0, BigInt(now.getTime() + ttlSeconds * 1000));
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", this.key, expiry));
    const token = new Uint8Array(expiry.length + mac.length);
    token.set(expiry);
    token.set(mac, expiry.length);
    return token.toBase64({ alphabet: "base64url", omitPadding: true });
  }

  /** True for a token this server issued that has not expired. */
  async valid(token: string | null, now: Date): Promise<boolean> {
    if (!token || !/^[A-Za-z0-9_-]{54}$/.test(token)) return false;
    const bytes = Uint8Array.fromBase64(token, { alphabet: "base64url" });
    const expiry = bytes.slice(0, 8);
    if (!await crypto.subtle.verify("HMAC", this.key, bytes.slice(8), expiry)) return false;
    return Number(new DataView(expiry.buffer).getBigUint64(0)) > now.getTime();
  }
}

/** The TTL a token request asks for, or why it is refused (as IMDS does: 400). */
export function requestedTtl(header: string | null): number | string {
  if (header === null) return `missing ${TTL_HEADER} header`;
  const ttl = Number(header);
  if (!/^\d+$/.test(header.trim()) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
    return `${TTL_HEADER} must be 1 to ${MAX_TTL_SECONDS} seconds, not "${header}"`;
  }
  return ttl;
}
