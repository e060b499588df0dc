/**
 * The CreateSession client: signs the call with SigV4-X509, sends it (retrying throttling,
 * 5xx and network errors with jittered backoff, re-signing each attempt), and turns the answer
 * into temporary credentials or a one-line AWS error.
 */
import type { DebugLog } from "../debug_log.ts";
import { CertroleError } from "../errors.ts";
import type { SigningKey } from "../identity/private_key.ts";
import { shellQuote } from "../shell_quote.ts";
import { type CreateSessionInput, createSessionRequest, signRequest } from "../signing/sigv4_x509.ts";
import { type HttpResponse, send, TransportError, type TransportOptions } from "../transport/http_client.ts";
import { isRetryableStatus, retryDelayMs } from "../transport/retry.ts";
import { VERSION } from "../version.ts";
// Type-only: the hint (and the chain code it runs) loads only when a refusal needs it.
import type { UntrustedContext } from "./untrusted_hint.ts";

export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** ISO 8601, as CreateSession returns it. */
  readonly expiration: string;
}

export interface CreateSessionOptions {
  readonly transport: TransportOptions;
  readonly maxAttempts: number;
  readonly debug: DebugLog;
  readonly now: () => Date;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** An AWS error answer: code from X-Amzn-ErrorType or the body, message from the body. */
export interface ServiceError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

export function parseServiceError(response: HttpResponse): ServiceError {
  const text = new TextDecoder().decode(response.body);
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed;
  } catch { /* not JSON: keep the status line */ }
  const header = response.headers.get("x-amzn-errortype")?.split(":")[0];
  const fromBody = typeof body.__type === "string" ? body.__type.split("#").pop() : undefined;
  const code = header || fromBody || (typeof body.code === "string" ? body.code : undefined) ||
    `HTTP${response.status}`;
  const message = [body.message, body.Message].find((value) => typeof value === "string") as string | undefined;
  return {
    status: response.status,
    code,
    message: (message ?? (text.trim().slice(0, 200) || "no message")).split("\n")[0],
  };
}

/**
 * The next step for a refusal whose cause can be looked for locally. Roles Anywhere answers
 * "Untrusted signing certificate" for any path it does not trust, naming no cause; what the
 * client can check itself (untrusted_hint.ts) goes after it, then the pki check command that
 * compares the certificate with the trust anchor's CA.
 */
export async function withNextStep(error: unknown, context: UntrustedContext): Promise<unknown> {
  if (
    !(error instanceof CertroleError) || error.awsCode !== "AccessDeniedException" ||
    !/Untrusted signing certificate/i.test(error.message)
  ) return error;
  const { files } = context;
  const { untrustedCause } = await import("./untrusted_hint.ts");
  const intermediates = files.intermediates ? ` --intermediates ${shellQuote(files.intermediates)}` : "";
  return new CertroleError(
    error.code,
    `${error.message}: ${await untrustedCause(context)}; compare with the trust anchor's CA: ` +
      `certrole pki check --ca <trust anchor CA> --cert ${shellQuote(files.certificate)}${intermediates}`,
    { awsCode: error.awsCode },
  );
}

function credentialsFrom(response: HttpResponse): SessionCredentials {
  let credentials: Record<string, unknown> | undefined;
  try {
    credentials = JSON.parse(new TextDecoder().decode(response.body))?.credentialSet?.[0]?.credentials;
  } catch { /* handled below */ }
  const fields = ["accessKeyId", "secretAccessKey", "sessionToken", "expiration"] as const;
  if (!credentials || fields.some((field) => typeof credentials![field] !== "string")) {
    throw new CertroleError(
      "MalformedResponse",
      "CreateSession answered without credentialSet[0].credentials: is the endpoint really IAM Roles Anywhere?",
    );
  }
  return Object.fromEntries(fields.map((field) => [field, credentials![field]])) as unknown as SessionCredentials;
}

export async function createSession(
  input: CreateSessionInput,
  key: SigningKey,
  options: CreateSessionOptions,
): Promise<SessionCredentials> {
  let lastProblem = "";
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    if (attempt > 1) {
      const delay = retryDelayMs(attempt - 1, options.random());
      options.debug(`retrying in ${delay} ms (attempt ${attempt} of ${options.maxAttempts}) after ${lastProblem}`);
      await options.sleep(delay);
    }
    const signed = await signRequest(createSessionRequest(input, options.now()), key);
    options.debug(`canonical request:\n${signed.canonicalRequest}`);
    options.debug(`string to sign:\n${signed.stringToSign}`);
    options.debug(`POST ${signed.url.href}`);
    let response: HttpResponse;
    try {
      response = await send(
        {
          method: "POST",
          url: signed.url,
          headers: { ...signed.headers, "User-Agent": `certrole/${VERSION}` },
          body: signed.body,
        },
        options.transport,
      );
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      if (!error.retryable) {
        throw new CertroleError("TransportError", `CreateSession at ${input.endpoint}: ${error.message}`);
      }
      lastProblem = error.message;
      continue;
    }
    options.debug(`HTTP ${response.status} from CreateSession`);
    if (response.status >= 200 && response.status < 300) {
      const credentials = credentialsFrom(response);
      options.debug(`issued access key ${credentials.accessKeyId}, expires ${credentials.expiration}`);
      return credentials;
    }
    const error = parseServiceError(response);
    lastProblem = `${error.code}: ${error.message}`;
    if (!isRetryableStatus(error.status, error.code)) {
      throw new CertroleError("CreateSessionRefused", `CreateSession failed: ${error.code}: ${error.message}`, {
        awsCode: error.code,
      });
    }
  }
  throw new CertroleError(
    "CreateSessionFailed",
    `CreateSession at ${input.endpoint} failed after ${options.maxAttempts} attempt(s): ${lastProblem}`,
  );
}
