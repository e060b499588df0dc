/**
 * `make lint`: the Dockerfiles and shell scripts.
 * - images/<variant>/Dockerfile current with Dockerfile.template (`certrole image render --check`);
 * - hadolint (the project's Dockerfile linter) when installed, as a binary or through
 *   `docker run hadolint/hadolint`; otherwise said to be skipped;
 * - dockerfile-utils (npm), always: every diagnostic fails;
 * - no heredocs (buildah 1.28 rejects them);
 * - shellcheck on every shell script: .ci/run, the launcher scripts/build.ts writes, and each
 *   shell-form RUN of the Dockerfiles (honouring the `# hadolint ignore=SC...` line above it).
 */
import $ from "dax-sh";
import { validate } from "dockerfile-utils";
import { launcherScript } from "../cli/build/launcher.ts";
import { command as renderCommand } from "../cli/commands/image_render.ts";
import { engineAnswers } from "./container_engine.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
let failures = 0;
const problem = (message: string) => {
  failures++;
  console.log(`  ✗ ${message}`);
};

async function dockerfiles(): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${root}/images`)) {
    if (entry.isDirectory) found.push(`images/${entry.name}/Dockerfile`);
  }
  for await (const entry of Deno.readDir(`${root}/local-bases`)) {
    if (entry.isFile && entry.name.endsWith(".Dockerfile")) found.push(`local-bases/${entry.name}`);
  }
  for await (const entry of Deno.readDir(`${root}/tests/fixtures/images`)) {
    if (entry.isDirectory) found.push(`tests/fixtures/images/${entry.name}/Dockerfile`);
  }
  return found.sort();
}

/** Shell-form RUN instructions: [line number, command text, shellcheck codes to exclude]. */
export function shellRuns(text: string): [number, string, string[]][] {
  const lines = text.split("\n");
  const runs: [number, string, string[]][] = [];
  for (let index = 0; index < lines.length; index++) {
    const match = lines[index].match(/^RUN\s+(?!\[)(.*)$/);
    if (!match) continue;
    const start = index;
    let command = match[1];
    // Keep the backslash: sh reads it as the same line continuation the Dockerfile meant.
    while (command.endsWith("\\") && index + 1 < lines.length) command = `${command}\n${lines[++index]}`;
    const ignored = lines[start - 1]?.match(/^# hadolint ignore=(.*)$/)?.[1].split(",").filter((code) =>
      code.startsWith("SC")
    ) ?? [];
    runs.push([start + 1, command, ignored]);
  }
  return runs;
}

/** shellcheck on `script`; its shebang names the shell (RUN snippets get #!/bin/sh, as Docker runs them). */
async function shellcheck(label: string, script: string, exclude: string[] = []): Promise<void> {
  const args = [...(exclude.length ? ["-e", exclude.join(",")] : []), "-"];
  const result = await $`shellcheck ${args}`.stdinText(script).noThrow().stdout("piped").stderr("piped");
  if (result.code !== 0) problem(`shellcheck ${label}:\n${result.stdout}${result.stderr}`);
}

console.log("Dockerfiles current with Dockerfile.template");
const check = await renderCommand.run({ values: { root, check: true }, sources: {}, positionals: [] });
if (check !== 0) problem("rendered Dockerfiles are stale: run `certrole image render` (make images)");

const files = await dockerfiles();
console.log(`hadolint (${files.length} Dockerfiles)`);
const hadolint = await $`hadolint --version`.noThrow().quiet().then((result) => result.code === 0, () => false);
if (hadolint) {
  const result = await $`hadolint ${files}`.cwd(root).noThrow();
  if (result.code !== 0) problem("hadolint reported problems (above)");
} else if (await engineAnswers("docker")) {
  for (const file of files) {
    const result = await $`docker run --rm -i hadolint/hadolint`.stdinText(await Deno.readTextFile(`${root}/${file}`))
      .noThrow();
    if (result.code !== 0) problem(`hadolint ${file} (above)`);
  }
} else {
  console.log("  - skipped: hadolint is not installed and no docker engine answers");
}

console.log("dockerfile-utils and heredocs");
for (const file of files) {
  const text = await Deno.readTextFile(`${root}/${file}`);
  for (const diagnostic of validate(text)) {
    const severity = diagnostic.severity === 1 ? "error" : "warning"; // LSP DiagnosticSeverity.Error
    problem(`${file}:${diagnostic.range.start.line + 1}: ${severity}: ${diagnostic.message}`);
  }
  text.split("\n").forEach((line, index) => {
    if (/^\s*(RUN|COPY|ADD)\b.*<<-?\s*['"]?\w/.test(line)) {
      problem(`${file}:${index + 1}: heredoc (buildah 1.28 rejects it)`);
    }
  });
}

console.log("shellcheck");
await shellcheck(".ci/run", await Deno.readTextFile(`${root}/.ci/run`));
await shellcheck(
  "the launcher (cli/build/launcher.ts)",
  launcherScript("/opt/deno", "/opt/lib/main.js", "/usr/bin/x y"),
);
for (const file of files) {
  for (const [line, command, exclude] of shellRuns(await Deno.readTextFile(`${root}/${file}`))) {
    await shellcheck(`${file}:${line} (RUN)`, `#!/bin/sh\n${command}\n`, exclude);
  }
}
for await (const entry of Deno.readDir(`${root}/scripts`)) {
  if (entry.name.endsWith(".sh")) {
    await shellcheck(`scripts/${entry.name}`, await Deno.readTextFile(`${root}/scripts/${entry.name}`));
  }
}

console.log(failures ? `\nmake lint: ${failures} problem(s)` : "\nmake lint: clean");
Deno.exit(failures ? 1 : 0);
