/**
 * IAM and IAM Roles Anywhere clients from the AWS SDK for JavaScript v3, for `certrole iam
 * setup|cleanup`. Credentials and region come from the SDK's default chain (environment,
 * AWS_PROFILE and the config files, SSO, ...), so the commands run against real AWS as the
 * user's other tools do, or against the emulator (its admin keys in the environment).
 * Requests go through certrole's own HTTP client, so the trust store (the system's, SSL_CERT_FILE,
 * SSL_CERT_DIR, AWS_CA_BUNDLE, which the JavaScript SDK ignores), HTTPS_PROXY/NO_PROXY and the
 * timeouts behave as in credential-process.
 * The SDK is imported here only, when these commands run.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import type { RolesAnywhereClient } from "@aws-sdk/client-rolesanywhere";
import { isRegionName } from "../aws_partitions.ts";
import { fail, messageOf, quoted } from "../errors.ts";
import { awsPercentEncode } from "../signing/sigv4_x509.ts";
import { proxyFor, send, type TransportOptions } from "../transport/http_client.ts";
import { trustedCertificates } from "../transport/trust_store.ts";

export interface AwsClients {
  readonly iam: IAMClient;
  readonly rolesAnywhere: RolesAnywhereClient;
  readonly iamSdk: typeof import("@aws-sdk/client-iam");
  readonly rolesAnywhereSdk: typeof import("@aws-sdk/client-rolesanywhere");
  readonly region: string;
  readonly endpoint?: string;
}

export interface ClientOptions {
  readonly region?: string;
  /** One endpoint for both services (the emulator), else AWS's. */
  readonly endpoint?: string;
  readonly env: (name: string) => string | undefined;
}

/** The SDK's request as it hands it to a request handler. */
interface SdkRequest {
  readonly method: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port?: number;
  readonly path: string;
  readonly query?: Record<string, string | string[] | null>;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

function queryString(query: SdkRequest["query"]): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === null) parts.push(awsPercentEncode(key));
    else {for (const item of Array.isArray(value) ? value : [value]) {
        parts.push(`${awsPercentEncode(key)}=${awsPercentEncode(item)}`);
      }}
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** A request handler for the SDK that sends with certrole's HTTP client. */
function requestHandler(transport: (url: URL) => TransportOptions) {
  return {
    metadata: { handlerProtocol: "http/1.1" },
    async handle(request: SdkRequest) {
      const port = request.port ? `:${request.port}` : "";
      const url = new URL(
        `${request.protocol}//${request.hostname}${port}${request.path}${queryString(request.query)}`,
      );
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        headers[name.toLowerCase() === "host" ? "Host" : name] = value;
      }
      const response = await send(
        { method: request.method, url, headers, body: request.body },
        transport(url),
      );
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, name) => responseHeaders[name] = value);
      return { response: { statusCode: response.status, headers: responseHeaders, body: response.body } };
    },
    destroy() {},
  };
}

/**
 * What the SDK's configuration and credential chain read from the environment (seen by
 * tests/hostile_environments.test.ts). Each is read once through `env` first: the SDK reads them
 * in promises nobody awaits, where a value that is not UTF-8 (Deno throws InvalidData) would end
 * the process with a stack trace instead of one line naming the variable.
 */
const SDK_ENVIRONMENT = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_DEFAULTS_MODE",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_MAX_ATTEMPTS",
  "AWS_RETRY_MODE",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_SDK_UA_APP_ID",
  "AWS_USE_DUALSTACK_ENDPOINT",
  "AWS_USE_FIPS_ENDPOINT",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
  "_X_AMZN_TRACE_ID",
  "HOME",
  "HOMEDRIVE",
  "HOMEPATH",
  "USERPROFILE",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

/** Files the SDK reads when these name them; it would wait forever on a FIFO and never finish /dev/zero. */
const SDK_FILE_VARIABLES = ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE"];

function checkSdkEnvironment(env: (name: string) => string | undefined): void {
  for (const name of SDK_ENVIRONMENT) env(name);
  for (const name of SDK_FILE_VARIABLES) {
    const path = env(name);
    if (!path) continue;
    // The SDK keeps each file's promise in a plain object keyed by the path: "__proto__" or
    // "constructor" finds Object.prototype's members there and ends in a TypeError nobody catches.
    if (path in Object.prototype) {
      fail("InvalidSetting", `${name} "${path}" is not a path the AWS SDK can read: write it as ./${path}`);
    }
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch {
      continue; // missing or unreadable: the SDK reports it, or goes on without the file
    }
    if (!info.isFile) {
      fail(
        "NotARegularFile",
        `${name} "${path}" is not a regular file (a directory, pipe or device): fix or unset ${name}`,
      );
    }
  }
}

export async function awsClients(options: ClientOptions): Promise<AwsClients> {
  checkSdkEnvironment(options.env);
  const caCerts = await trustedCertificates(options.env, () => {});
  const transport = (url: URL): TransportOptions => ({
    caCerts,
    connectTimeoutMs: 10_000,
    totalTimeoutMs: 60_000,
    // A page of up to 1000 roles with their trust policies is a few MB of XML.
    maxResponseBytes: 16 * 1024 * 1024,
    proxy: proxyFor(url, options.env),
  });
  const [iamSdk, rolesAnywhereSdk] = await Promise.all([
    import("@aws-sdk/client-iam"),
    import("@aws-sdk/client-rolesanywhere"),
  ]);
  // An empty variable counts as unset, as in the AWS CLI; anything else must be a region name.
  const [source, given] = options.region
    ? ["--region", options.region]
    : options.env("AWS_REGION")
    ? ["AWS_REGION", options.env("AWS_REGION")!]
    : options.env("AWS_DEFAULT_REGION")
    ? ["AWS_DEFAULT_REGION", options.env("AWS_DEFAULT_REGION")!]
    : ["the AWS config profile's region", await regionFromConfig(rolesAnywhereSdk)];
  if (!isRegionName(given)) {
    fail("InvalidSetting", `${source} ${quoted(given)} is not an AWS region name like us-east-1: fix ${source}`);
  }
  const region = given;
  const common = {
    region,
    requestHandler: requestHandler(transport),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  };
  return {
    // IAM is global: its endpoint and signing region come from the partition of `region`.
    iam: new iamSdk.IAMClient(common),
    rolesAnywhere: new rolesAnywhereSdk.RolesAnywhereClient(common),
    iamSdk,
    rolesAnywhereSdk,
    region,
    endpoint: options.endpoint,
  };
}

/** The region of the active profile in the AWS config file, as the SDK reads it. */
async function regionFromConfig(sdk: typeof import("@aws-sdk/client-rolesanywhere")): Promise<string> {
  const client = new sdk.RolesAnywhereClient({});
  try {
    const region = await client.config.region();
    if (!region) throw new Error("no region");
    return region;
  } catch {
    fail(
      "MissingSettings",
      "no AWS region: give --region, set AWS_REGION, or set a region in the AWS config profile",
    );
  } finally {
    client.destroy();
  }
}

/** One line for an SDK failure: the AWS error code and message, or a hint for missing credentials. */
export function describeAwsError(error: unknown, what: string): string {
  const named = error as { name?: string; message?: string; Code?: string };
  if (named?.name === "CredentialsProviderError") {
    return `${what}: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE; \`certrole emulator\` prints its admin keys)`;
  }
  const code = named?.Code ?? named?.name ?? "Error";
  return `${what}: ${code}: ${messageOf(error)}`;
}
