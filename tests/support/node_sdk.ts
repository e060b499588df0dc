/**
 * The AWS SDK for JavaScript v3 under Node, as a real peer: `@aws-sdk/client-s3` at the version
 * the node image ships (images/variants.json), installed once with npm into a cache outside the
 * clone (/var/tmp, like the image tests' cache), and scripts run with `node`.
 */
import { run, type RunResult } from "./run.ts";

const VARIANTS = new URL("../../images/variants.json", import.meta.url);

async function clientS3Version(): Promise<string> {
  const text = await Deno.readTextFile(VARIANTS);
  const match = text.match(/@aws-sdk\/client-s3@(\d+\.\d+\.\d+)/);
  if (!match) throw new Error("images/variants.json names no @aws-sdk/client-s3 version");
  return match[1];
}

let installed: Promise<string> | undefined;

/** The folder whose node_modules holds @aws-sdk/client-s3. */
export function nodeSdk(): Promise<string> {
  installed ??= (async () => {
    const version = await clientS3Version();
    const dir = `/var/tmp/certrole-node-sdk/client-s3-${version}`;
    try {
      await Deno.stat(`${dir}/node_modules/@aws-sdk/client-s3/package.json`);
      return dir;
    } catch { /* not yet installed */ }
    await Deno.mkdir(dir, { recursive: true });
    const lock = await Deno.open(`${dir}.lock`, { create: true, write: true });
    await lock.lock(true); // test files running in parallel install once
    try {
      try {
        await Deno.stat(`${dir}/node_modules/@aws-sdk/client-s3/package.json`);
        return dir;
      } catch { /* ours to install */ }
      const result = await run("npm", [
        "install",
        "--prefix",
        dir,
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        `@aws-sdk/client-s3@${version}`,
      ], { env: { HOME: Deno.env.get("HOME") ?? "/root", ...npmEnv() } });
      if (result.code !== 0) throw new Error(`npm install @aws-sdk/client-s3@${version} failed: ${result.stderr}`);
      return dir;
    } finally {
      lock.close();
    }
  })();
  return installed;
}

/** npm's own settings (registry, proxy, CA) pass through. */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (/^(npm_config_|NPM_CONFIG_|HTTPS?_PROXY$|https?_proxy$|NO_PROXY$|no_proxy$|NODE_EXTRA_CA_CERTS$)/.test(name)) {
      env[name] = value;
    }
  }
  return env;
}

/** Runs a CommonJS script with node, resolving packages from the installed SDK. */
export async function runNode(
  script: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<RunResult> {
  const dir = await nodeSdk();
  return await run("node", ["-e", script, "--", ...args], { env: { NODE_PATH: `${dir}/node_modules`, ...env } });
}
