/**
 * The container endpoint's authorization token: the raw value SDKs send as the Authorization
 * header (from AWS_CONTAINER_AUTHORIZATION_TOKEN or the file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 * names). A token file is created with 32 random bytes (base64url, no newline: botocore refuses a
 * token containing CR or LF) as 0440 (a pod's fsGroup may read it, nobody else); an existing one
 * is checked and re-read every second, so replacing it revokes the old token. Comparison is
 * constant-time over SHA-256 digests.
 */
import { writeFileAtomically } from "../atomic_write.ts";
import { fail, messageOf } from "../errors.ts";

/** What a request's Authorization header amounts to. */
export type Authorization = "ok" | "missing" | "wrong";

const TOKEN_PATTERN = /^[\x21-\x7e]{16,4096}$/;

export function randomToken(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Equal digests compared without an early exit, so timing says nothing about the token. */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

export class AuthorizationToken {
  #value: string;
  #timer?: ReturnType<typeof setInterval>;

  private constructor(value: string, readonly file?: string) {
    this.#value = value;
  }

  /** A token that lives only in this process (exec --supervise hands it to its child). */
  static inMemory(): AuthorizationToken {
    return new AuthorizationToken(randomToken());
  }

  /** The file's token, creating the file when it does not exist. */
  static async fromFile(path: string, setting: string): Promise<{ token: AuthorizationToken; created: boolean }> {
    const existing = await readTokenFile(path, setting);
    if (existing !== undefined) return { token: new AuthorizationToken(existing, path), created: false };
    const value = randomToken();
    // Never replaced: a token another process created meanwhile is kept.
    try {
      await writeFileAtomically(path, value, { mode: 0o440, replace: false });
    } catch (error) {
      const raced = error instanceof Deno.errors.AlreadyExists ? await readTokenFile(path, setting) : undefined;
      if (raced !== undefined) return { token: new AuthorizationToken(raced, path), created: false };
      fail("CannotWrite", `${setting} "${path}" cannot be created (${messageOf(error)}): pick a writable directory`);
    }
    return { token: new AuthorizationToken(value, path), created: true };
  }

  /** For exec --supervise, which passes it in the child's environment. */
  get value(): string {
    return this.#value;
  }

  async check(header: string | null): Promise<Authorization> {
    if (header === null || header === "") return "missing";
    return await tokensEqual(header, this.#value) ? "ok" : "wrong";
  }

  /** Re-reads the file every second; a new valid token replaces the old one at once. */
  watch(log: (line: string) => void): void {
    const path = this.file;
    if (!path || this.#timer) return;
    let reported = "";
    this.#timer = setInterval(async () => {
      try {
        const value = await readTokenFile(path, "the token file");
        if (value === undefined || value === this.#value) return;
        this.#value = value;
        log(`authorization token file ${path} changed: the previous token is refused from now on`);
      } catch (error) {
        const message = messageOf(error);
        if (message !== reported) log(`authorization token file ignored: ${message}; the previous token stays`);
        reported = message;
      }
    }, 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The token in an existing file, checked; undefined when there is no file. */
async function readTokenFile(path: string, setting: string): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    fail("FileUnreadable", `${setting} "${path}" cannot be read (${messageOf(error)})`);
  }
  if (!info.isFile) fail("NotARegularFile", `${setting} "${path}" is not a regular file`);
  if (((info.mode ?? 0) & 0o007) !== 0) {
    fail(
      "InvalidTokenFile",
      `${setting} "${path}" is accessible to other users (mode ${((info.mode ?? 0) & 0o777).toString(8)}): ` +
        `chmod o-rwx it (0400 or 0440)`,
    );
  }
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    fail("FileUnreadable", `${setting} "${path}" cannot be read (${messageOf(error)})`);
  }
  if (!TOKEN_PATTERN.test(text)) {
    fail(
      "InvalidTokenFile",
      `${setting} "${path}" must hold 16 to 4096 printable characters and no newline (SDKs send it as a header ` +
        `and botocore refuses CR/LF): write it with printf '%s', or delete it and let certrole create one`,
    );
  }
  return text;
}
