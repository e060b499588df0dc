/** `certrole iam cleanup`: removes what `certrole iam setup` made; safe to run again. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { usageError } from "../flags.ts";
import { awsClients } from "../iam/aws_clients.ts";
import { cleanUp } from "../iam/provision.ts";
import {
  AWS_FLAGS,
  checkResourceName,
  checkRoleName,
  clientOptions,
  NAME_FLAGS,
  nameFromCa,
  readCa,
  requiredString,
} from "../iam/setup_flags.ts";

export const command: Command = {
  name: "iam cleanup",
  summary: "delete the profile, trust anchor, inline policies and role that iam setup made",
  usage: "certrole iam cleanup --role-name NAME (--ca ca-cert.pem | --trust-anchor-name NAME) [flags]",
  description: `
The walkthrough's clean-up steps: deletes the profile (--profile-name, default the role name),
the trust anchor (--trust-anchor-name, default the --ca certificate's CN), the role's inline
policies and the role. What is already gone is reported as absent, so it can run again.
--env-file removes the file iam setup wrote.`,
  flags: {
    ...NAME_FLAGS,
    ...AWS_FLAGS,
    "env-file": { type: "string", value: "FILE", description: "the env-file iam setup wrote: removed too" },
    json: { type: "boolean", description: "print what was deleted as JSON" },
  },
  examples: [
    "certrole iam cleanup --role-name bucket-lister --ca ca-cert.pem",
    "certrole iam cleanup --role-name bucket-lister --trust-anchor-name myPrivateCA --endpoint-url http://127.0.0.1:4599",
  ],
  async run(flags) {
    const roleName = checkRoleName(requiredString(flags, "role-name", "the IAM role iam setup made"));
    let trustAnchorName = flags.values["trust-anchor-name"] as string | undefined;
    if (trustAnchorName === undefined) {
      const caPath = flags.values.ca as string | undefined;
      if (!caPath) throw usageError("give --ca ca-cert.pem or --trust-anchor-name NAME: which trust anchor to delete");
      trustAnchorName = nameFromCa((await readCa(caPath)).certificates[0]);
    }
    checkResourceName(trustAnchorName, "trust-anchor-name");
    const profileName = checkResourceName(
      (flags.values["profile-name"] as string | undefined) ?? roleName,
      "profile-name",
    );
    const clients = await awsClients(clientOptions(flags));
    const steps = await cleanUp(clients, { roleName, trustAnchorName, profileName });
    const envFile = flags.values["env-file"] as string | undefined;
    let removed = false;
    if (envFile) removed = await Deno.remove(envFile).then(() => true, () => false);
    if (flags.values.json) {
      writeStdout(JSON.stringify({ steps, envFileRemoved: removed }, null, 2) + "\n");
      return 0;
    }
    writeStdout(
      [
        ...steps.map((step) => `✓ ${step.what}: ${step.change === "absent" ? "already gone" : step.change}`),
        ...(envFile ? [`✓ ${envFile}: ${removed ? "removed" : "already gone"}`] : []),
      ].join("\n") + "\n",
    );
    return 0;
  },
};
