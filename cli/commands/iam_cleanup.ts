/** `certrole iam cleanup`: removes what `certrole iam setup` made, and only that; safe to run again. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { awsClients } from "../iam/aws_clients.ts";
import { cleanUp } from "../iam/cleanup.ts";
import {
  AWS_FLAGS,
  checkResourceName,
  checkRoleName,
  clientOptions,
  NAME_FLAGS,
  nameFromCa,
  nameFromRole,
  OWNERSHIP_HELP,
  readCa,
  requiredString,
} from "../iam/setup_flags.ts";
import { stepLine } from "../iam/steps.ts";

export const command: Command = {
  name: "iam cleanup",
  summary: "delete the profile, trust anchor, inline policy and role that iam setup made, and nothing else",
  usage: "certrole iam cleanup --role-name NAME [--ca ca-cert.pem | --trust-anchor-name NAME] [flags]",
  description: `
The walkthrough's clean-up steps, limited to what certrole made (its certrole:* tags say so):
  - the profile (--profile-name, default the role name, and any other listing the role),
    unless it lists another role too,
  - the trust anchors the role's trust policy names (also the one --trust-anchor-name names and
    those holding the --ca certificates, for when the role is gone), unless another role still
    trusts them: then it only drops this role's certrole:role/ tag,
  - the one inline policy setup wrote, then the role, unless the role holds other inline
    policies (someone else's: the role is kept with them).
What it keeps it says, with the reason; what is already gone is reported as such, so it can
run again. --env-file removes the file iam setup wrote.
${OWNERSHIP_HELP}`,
  flags: {
    ...NAME_FLAGS,
    ...AWS_FLAGS,
    "env-file": { type: "string", value: "FILE", description: "the env-file iam setup wrote: removed too" },
    json: { type: "boolean", description: "print what was deleted as JSON" },
  },
  examples: [
    "certrole iam cleanup --role-name bucket-lister",
    "certrole iam cleanup --role-name bucket-lister --trust-anchor-name myPrivateCA --endpoint-url http://127.0.0.1:4599",
  ],
  async run(flags) {
    const roleName = checkRoleName(requiredString(flags, "role-name", "the IAM role iam setup made"));
    const caPath = flags.values.ca as string | undefined;
    const ca = caPath ? await readCa(caPath) : undefined;
    let trustAnchorName = flags.values["trust-anchor-name"] as string | undefined;
    if (trustAnchorName === undefined && ca) trustAnchorName = nameFromCa(ca.certificates[0]);
    if (trustAnchorName !== undefined) checkResourceName(trustAnchorName, "trust-anchor-name");
    const profileName = checkResourceName(
      (flags.values["profile-name"] as string | undefined) ?? nameFromRole(roleName),
      "profile-name",
    );
    const clients = await awsClients(clientOptions(flags));
    const steps = await cleanUp(clients, { roleName, trustAnchorName, profileName, caPem: ca?.pem });
    const envFile = flags.values["env-file"] as string | undefined;
    let removed = false;
    if (envFile) removed = await Deno.remove(envFile).then(() => true, () => false);
    if (flags.values.json) {
      writeStdout(JSON.stringify({ steps, envFileRemoved: removed }, null, 2) + "\n");
      return 0;
    }
    writeStdout(
      [
        ...steps.map(stepLine),
        ...(envFile ? [`✓ ${envFile}: ${removed ? "removed" : "already gone"}`] : []),
      ].join("\n") + "\n",
    );
    return 0;
  },
};
