/** `certrole version` */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { VERSION } from "../version.ts";

export const command: Command = {
  name: "version",
  summary: "print certrole's version",
  usage: "certrole version",
  description: "Prints certrole's version and the Deno runtime it runs on.",
  flags: {},
  examples: ["certrole version"],
  run() {
    writeStdout(`certrole ${VERSION} (deno ${Deno.version.deno})\n`);
    return Promise.resolve(0);
  },
};
