/** `certrole iam setup`: the walkthrough's IAM and Roles Anywhere steps in one idempotent command. */
import { replaceFile } from "../atomic_write.ts";
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { usageError } from "../flags.ts";
import { awsClients } from "../iam/aws_clients.ts";
import { checkAction } from "../iam/documents.ts";
import { setUp } from "../iam/setup.ts";
import {
  AWS_FLAGS,
  checkResourceName,
  checkRoleName,
  clientOptions,
  envFileText,
  NAME_FLAGS,
  nameFromCa,
  nameFromRole,
  OWNERSHIP_HELP,
  readCa,
  requiredString,
} from "../iam/setup_flags.ts";
import { stepLine } from "../iam/steps.ts";

export const command: Command = {
  name: "iam setup",
  summary: "create (or converge) the role, inline policy, trust anchor and profile for certificate credentials",
  usage: "certrole iam setup --role-name NAME --cn CN --ca ca-cert.pem --allow ACTION [--allow ...] [flags]",
  description: `
Does the walkthrough's IAM and IAM Roles Anywhere steps against real AWS (your usual
credentials: environment, AWS_PROFILE, SSO ...) or the emulator (--endpoint-url and its admin
keys):
  1. a trust anchor on the CA certificate (enabled); one that already holds exactly these CA
     certificates is used instead, whatever its name, so a CA never gets a second one,
  2. a role whose trust policy lets Roles Anywhere assume it for certificates with subject
     CN=--cn issued through this trust anchor (aws:SourceArn),
  3. an inline policy allowing the --allow actions (on --resource, default "*"),
  4. a profile (enabled) for the role.
Running it again converges instead of duplicating: what certrole made is reused, what differs
is updated, what is disabled is enabled. Prints the three ARNs; --env-file writes them as
ROLESANYWHERE_* lines for \`docker run --env-file\` (with ROLESANYWHERE_ENDPOINT when
--endpoint-url is given).
${OWNERSHIP_HELP}
A role, trust anchor, profile or inline policy of the same name that certrole did not make is
not changed: setup stops, before changing anything, with a line naming it. Pick another name,
or pass --adopt to let certrole take it over (tag it and set it to the plan; a later cleanup
deletes it like its own). A trust anchor that holds this CA is used without --adopt and is
never written to or deleted by certrole.`,
  flags: {
    ...NAME_FLAGS,
    cn: { type: "string", value: "CN", description: "subject CN the client certificate must carry (required)" },
    allow: { type: "list", value: "ACTION", description: "action the role may perform, e.g. s3:ListAllMyBuckets" },
    resource: { type: "list", value: "ARN", description: "resource the actions apply to (default *)" },
    "policy-name": { type: "string", value: "NAME", default: "permissions", description: "name of the inline policy" },
    "session-duration": {
      type: "string",
      value: "SECONDS",
      default: "3600",
      description: "longest session the profile grants, 900 to 43200",
    },
    ...AWS_FLAGS,
    "env-file": {
      type: "string",
      value: "FILE",
      description: "write ROLESANYWHERE_* lines here for docker --env-file",
    },
    adopt: {
      type: "boolean",
      description: "take over a role, trust anchor, profile or inline policy of these names that certrole did not make",
    },
    json: { type: "boolean", description: "print the ARNs and changes as JSON" },
  },
  examples: [
    "certrole iam setup --role-name bucket-lister --cn myContainer --ca ca-cert.pem --allow s3:ListAllMyBuckets",
    "certrole iam setup --role-name bucket-lister --cn myContainer --ca ca-cert.pem --allow s3:ListAllMyBuckets \\\n" +
    "    --endpoint-url http://127.0.0.1:4599 --env-file bucket-lister.env",
    "",
    "# a role made by hand (or by certrole before it tagged what it makes): take it over",
    "certrole iam setup --role-name bucket-lister --cn myContainer --ca ca-cert.pem --allow s3:ListAllMyBuckets --adopt",
  ],
  async run(flags) {
    const roleName = checkRoleName(
      requiredString(flags, "role-name", "name the IAM role, e.g. --role-name bucket-lister"),
    );
    const cn = requiredString(flags, "cn", "the client certificate's subject CN, e.g. --cn myContainer");
    const caPath = requiredString(flags, "ca", "the CA certificate file, e.g. --ca ca-cert.pem");
    const allow = (flags.values.allow as string[] | undefined) ?? [];
    if (allow.length === 0) throw usageError("--allow is required: e.g. --allow s3:ListAllMyBuckets (repeatable)");
    allow.forEach(checkAction);
    const durationText = (flags.values["session-duration"] as string | undefined) ?? "3600";
    const durationSeconds = Number(durationText);
    if (!/^\d+$/.test(durationText) || durationSeconds < 900 || durationSeconds > 43200) {
      throw usageError(`--session-duration must be 900 to 43200 seconds, not "${durationText}"`);
    }
    const ca = await readCa(caPath);
    const trustAnchorName = checkResourceName(
      (flags.values["trust-anchor-name"] as string | undefined) ?? nameFromCa(ca.certificates[0]),
      "trust-anchor-name",
    );
    const profileName = checkResourceName(
      (flags.values["profile-name"] as string | undefined) ?? nameFromRole(roleName),
      "profile-name",
    );
    const policyName = (flags.values["policy-name"] as string | undefined) ?? "permissions";
    if (!/^[\w+=,.@-]{1,128}$/.test(policyName)) throw usageError(`--policy-name "${policyName}" is not a policy name`);
    const options = clientOptions(flags);
    const clients = await awsClients(options);
    const result = await setUp(clients, {
      roleName,
      cn,
      caPem: ca.pem,
      allow,
      resources: flags.values.resource as string[] | undefined,
      policyName,
      trustAnchorName,
      profileName,
      durationSeconds,
      adopt: flags.values.adopt === true,
    });
    const envFile = flags.values["env-file"] as string | undefined;
    if (envFile) {
      const text = envFileText({
        ROLESANYWHERE_TRUST_ANCHOR_ARN: result.trustAnchorArn,
        ROLESANYWHERE_PROFILE_ARN: result.profileArn,
        ROLESANYWHERE_ROLE_ARN: result.roleArn,
        ROLESANYWHERE_ENDPOINT: options.endpoint,
      });
      await replaceFile(envFile, text, { mode: 0o644, what: "--env-file" });
    }
    if (flags.values.json) {
      writeStdout(JSON.stringify({ ...result, region: clients.region }, null, 2) + "\n");
      return 0;
    }
    writeStdout(
      [
        ...result.steps.map(stepLine),
        "",
        `ROLESANYWHERE_TRUST_ANCHOR_ARN=${result.trustAnchorArn}`,
        `ROLESANYWHERE_PROFILE_ARN=${result.profileArn}`,
        `ROLESANYWHERE_ROLE_ARN=${result.roleArn}`,
        ...(envFile ? ["", `wrote ${envFile} (docker run --env-file ${envFile} ...)`] : []),
      ].join("\n") + "\n",
    );
    return 0;
  },
};
