/**
 * The real AWS CLI (and shells running the walkthrough's commands) in tests: environments with
 * the emulator's admin keys, and AWS config files whose credential_process line runs certrole.
 */
import { shellJoin } from "../../cli/shell_quote.ts";
import type { Leaf } from "./pki.ts";
import { certroleArgv, run, type RunResult } from "./run.ts";

export const AWS = "/usr/bin/aws";

/** The administrator's environment: the emulator's keys, a region, no config to stumble on. */
export function adminEnv(dir: string, admin: { accessKeyId: string; secretAccessKey: string }): Record<string, string> {
  return {
    HOME: dir,
    AWS_ACCESS_KEY_ID: admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: `${dir}/no-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  };
}

export interface SessionArns {
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
}

/**
 * An AWS config file whose default profile gets credentials from `certrole credential-process`
 * (the container's side of the walkthrough). Returns the environment that uses it. `args` are
 * extra credential-process flags (default --no-cache).
 */
export async function credentialProcessEnv(
  dir: string,
  name: string,
  leaf: Leaf,
  arns: SessionArns,
  endpoint: string,
  options: { readonly args?: readonly string[]; readonly env?: Record<string, string> } = {},
): Promise<Record<string, string>> {
  const config = `${dir}/${name}.config`;
  const command = shellJoin([
    ...certroleArgv(),
    "credential-process",
    "--certificate",
    leaf.cert,
    "--private-key",
    leaf.key,
    "--trust-anchor-arn",
    arns.trustAnchorArn,
    "--profile-arn",
    arns.profileArn,
    "--role-arn",
    arns.roleArn,
    "--endpoint",
    endpoint,
    ...(options.args ?? ["--no-cache"]),
  ]);
  await Deno.writeTextFile(config, `[default]\nregion = us-east-1\ncredential_process = ${command}\n`);
  return {
    HOME: dir,
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/no-credentials`,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    ...(leaf.passphrase ? { ROLESANYWHERE_KEY_PASSPHRASE: leaf.passphrase } : {}),
    ...options.env,
  };
}

/** A bash script (the walkthrough's commands as a user types them). */
export function bash(script: string, env: Record<string, string>, cwd: string): Promise<RunResult> {
  return run("bash", ["-c", `set -euo pipefail\n${script}`], { env, cwd });
}
