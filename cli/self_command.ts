/**
 * How to run this same certrole again (for the credential_process line exec writes): the
 * launcher when started through one, the binary when compiled, else Deno on cli/main.ts with
 * certrole's permissions and the project's config.
 */
import { LAUNCHER_ENV } from "./build/launcher.ts";
import { RUNTIME_PERMISSIONS } from "./permissions.ts";

export function selfCommand(env: (name: string) => string | undefined): string[] {
  const launcher = env(LAUNCHER_ENV);
  if (launcher) return [launcher];
  const executable = Deno.execPath();
  if (!/^deno(\.exe)?$/.test(executable.split("/").pop() ?? "")) return [executable]; // deno compile output
  const main = new URL(Deno.mainModule).pathname;
  const config = new URL("../deno.json", Deno.mainModule).pathname;
  let configArgs: string[] = [];
  try {
    Deno.statSync(config);
    configArgs = ["--config", config];
  } catch { /* running a bundle without the project around it */ }
  return [executable, "run", "--quiet", ...configArgs, ...RUNTIME_PERMISSIONS, main];
}
