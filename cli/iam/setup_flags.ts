/**
 * What `certrole iam setup` and `certrole iam cleanup` share: where AWS is (endpoint, region),
 * the names of the walkthrough's resources and their defaults, and the env-file the setup
 * writes for `docker run --env-file`.
 */
import { fail } from "../errors.ts";
import type { FlagSpecs, ParsedFlags } from "../flags.ts";
import { usageError } from "../flags.ts";
import { type Certificate, nameAttribute } from "../identity/certificate.ts";
import { certificatesFromBundle, type FileRole, readInputFile } from "../identity/identity.ts";
import type { ClientOptions } from "./aws_clients.ts";
import { readEnv } from "../process/environment.ts";

export const AWS_FLAGS = {
  "endpoint-url": {
    type: "string",
    value: "URL",
    env: "AWS_ENDPOINT_URL",
    description: "one endpoint for IAM and Roles Anywhere, e.g. the emulator's (default: AWS's)",
  },
  region: {
    type: "string",
    value: "REGION",
    description: "Roles Anywhere region (default: AWS_REGION, AWS_DEFAULT_REGION, then the AWS config profile)",
  },
} as const satisfies FlagSpecs;

export const NAME_FLAGS = {
  "role-name": { type: "string", value: "NAME", description: "IAM role to create (required)" },
  "profile-name": {
    type: "string",
    value: "NAME",
    description: "Roles Anywhere profile (default: the role name, with +=,.@ as -)",
  },
  "trust-anchor-name": {
    type: "string",
    value: "NAME",
    description: "Roles Anywhere trust anchor (default: the CA certificate's CN)",
  },
  ca: { type: "string", value: "FILE", description: "the CA certificate (PEM) client certificates chain to" },
} as const satisfies FlagSpecs;

export const CA_FILE: FileRole = { what: "CA certificate", setting: "--ca" };

export function clientOptions(flags: ParsedFlags): ClientOptions {
  const endpoint = flags.values["endpoint-url"] as string | undefined;
  if (endpoint !== undefined) {
    let url;
    try {
      url = new URL(endpoint);
    } catch {
      throw usageError(`--endpoint-url "${endpoint}" is not a URL (like http://127.0.0.1:4599)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw usageError(`--endpoint-url "${endpoint}" must be http:// or https://`);
    }
  }
  return {
    endpoint,
    region: flags.values.region as string | undefined,
    env: readEnv,
  };
}

export function requiredString(flags: ParsedFlags, name: string, hint: string): string {
  const value = flags.values[name];
  if (typeof value !== "string" || value === "") throw usageError(`--${name} is required: ${hint}`);
  return value;
}

/** The CA certificates of --ca, each checked to be a CA like Roles Anywhere wants. */
export async function readCa(path: string): Promise<{ pem: string; certificates: Certificate[] }> {
  const bytes = await readInputFile(path, CA_FILE);
  const certificates = certificatesFromBundle(bytes, path, CA_FILE);
  for (const certificate of certificates) {
    if (!certificate.basicConstraints?.ca) {
      fail(
        "NotACa",
        `"${path}" holds "${certificate.subject.text}", which is not a CA certificate (basicConstraints CA:TRUE): give the CA's certificate, not a client's`,
      );
    }
  }
  return { pem: new TextDecoder().decode(bytes), certificates };
}

/** A Roles Anywhere resource name ([ a-zA-Z0-9-_], 1-255) made from the CA's common name. */
export function nameFromCa(certificate: Certificate): string {
  const cn = nameAttribute(certificate.subject, "CN") ?? "";
  const name = cn.replace(/[^ a-zA-Z0-9_-]/g, "-").slice(0, 255).trim();
  return name || "certrole-ca";
}

/** The default profile name: the role's, with what profile names cannot hold (+=,.@) as "-". */
export function nameFromRole(roleName: string): string {
  return roleName.replace(/[^ a-zA-Z0-9_-]/g, "-");
}

/** The tag scheme, for both commands' --help (ownership.ts holds it). */
export const OWNERSHIP_HELP = `
What certrole makes carries tags, and setup and cleanup change only what carries them:
  certrole:managed-by=certrole  on the role, the trust anchor and the profile it made
  certrole:policy=NAME          on the role: the inline policy certrole wrote
  certrole:role/ROLE            on a trust anchor: a role set up to trust it (one tag each)
  certrole:role=ROLE            on the profile: the role it was made for
(a "," in a name is written ":" in tags, which cannot hold ",").`;

export function checkResourceName(name: string, flag: string): string {
  if (!/^[ a-zA-Z0-9_-]{1,255}$/.test(name)) throw usageError(`--${flag} "${name}" must be 1-255 of [ a-zA-Z0-9_-]`);
  return name;
}

export function checkRoleName(name: string): string {
  if (!/^[\w+=,.@-]{1,64}$/.test(name)) throw usageError(`--role-name "${name}" must be 1-64 of [A-Za-z0-9_+=,.@-]`);
  return name;
}

/** KEY=VALUE lines for `docker run --env-file` (no quoting there: values are taken literally). */
export function envFileText(values: Readonly<Record<string, string | undefined>>): string {
  const lines = ["# written by certrole iam setup; use with docker run --env-file"];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (/[\r\n]/.test(value)) fail("InvalidSetting", `${key} cannot go into an env-file: it holds a line break`);
    lines.push(`${key}=${value}`);
  }
  return lines.join("\n") + "\n";
}
