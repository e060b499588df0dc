/** `certrole image dockerfile`: prints a Dockerfile that puts certrole on the user's own base image. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { usageError } from "../flags.ts";
import { type ExecMode, renderUserDockerfile } from "../images/render.ts";
import { readImageInputs, rootFlag } from "../images/sources.ts";
import { RUNTIME_PERMISSIONS } from "../permissions.ts";
import { VERSION } from "../version.ts";

export const command: Command = {
  name: "image dockerfile",
  summary: "for your own base image: print a multi-stage Dockerfile that adds certrole's entrypoint to it",
  usage: "certrole image dockerfile --base IMAGE [--runtime python|node|ruby|aws-cli|generic] [--[no-]supervise]",
  description: `
For teams that cannot build FROM certrole's images: prints a Dockerfile made from the same
template (Dockerfile.template) and entrypoint spec (entrypoints/<runtime>.json) as certrole's
own images. Its build stage builds certrole; the final stage is your base with certrole at
/usr/local/bin/certrole, the numeric user 65532:65532, HOME /home/certrole (with Deno's code
cache filled at build time), the runtime's environment, STOPSIGNAL and
ENTRYPOINT ["/usr/local/bin/certrole", "exec", "--", ...]. No SDK is installed: your base
brings its own.

Build it with certrole's source tree as the context (as certrole's own images are), then
build your application FROM the result:

  certrole image dockerfile --base registry.example.com/python:3.12 --runtime python > Dockerfile.certrole
  docker build -f Dockerfile.certrole -t my-python-certrole PATH_OF_CERTROLE_SOURCE

Runtimes: aws-cli wraps the AWS CLI (docker run IMAGE s3 ls); python, node and ruby run your
CMD; generic runs any CMD. Each runs in the mode certrole's own image of it ships (aws-cli,
python, node: exec --supervise; ruby, generic: replace). --supervise keeps certrole as PID 1
(exec --supervise: it forwards signals, reaps and serves the command its credentials; STOPSIGNAL
SIGTERM); --no-supervise makes exec replace itself with the command, with the stop signal that
interpreter needs as PID 1 (SIGINT for Python and the AWS CLI; node preloads a SIGTERM handler
through NODE_OPTIONS, in this mode only). The base must be fully
qualified (podman refuses short names) and glibc-based (Deno needs glibc 2.27 or later).`,
  flags: {
    base: { type: "string", value: "IMAGE", description: "your base image, fully qualified; required" },
    runtime: {
      type: "string",
      value: "NAME",
      description: "entrypoint spec: aws-cli, python, node, ruby or generic",
      default: "generic",
    },
    supervise: {
      type: "boolean",
      description:
        "certrole stays PID 1 and supervises the command (exec --supervise); --no-supervise: exec replaces itself",
      default: "the runtime's",
    },
    root: { type: "string", value: "DIR", description: "certrole's source tree", default: "." },
  },
  examples: [
    "certrole image dockerfile --base docker.io/library/python:3.12-slim-bookworm --runtime python > Dockerfile.certrole",
    "certrole image dockerfile --base registry.example.com/base/debian:12 --runtime generic",
    "certrole image dockerfile --base docker.io/library/node:22-bookworm-slim --runtime node --no-supervise",
    "docker build -f Dockerfile.certrole -t my-python-certrole .   # in certrole's source tree",
  ],
  async run(flags) {
    const base = flags.values.base as string | undefined;
    if (!base) {
      throw usageError("image dockerfile needs --base IMAGE (your base image, e.g. docker.io/library/debian:12)");
    }
    const runtime = (flags.values.runtime as string | undefined) ?? "generic";
    const chosen = flags.values.supervise as boolean | undefined;
    const mode: ExecMode | undefined = chosen === undefined ? undefined : chosen ? "supervise" : "replace";
    const root = rootFlag(flags.values.root);
    const inputs = await readImageInputs(root);
    const commandLine = ["certrole image dockerfile", `--base ${base}`, `--runtime ${runtime}`]
      .concat(chosen === undefined ? [] : [chosen ? "--supervise" : "--no-supervise"]).join(" ");
    const dockerfile = renderUserDockerfile(inputs, { base, runtime, mode, commandLine }, {
      version: VERSION,
      permissions: RUNTIME_PERMISSIONS,
    });
    writeStdout(dockerfile);
    return 0;
  },
};
