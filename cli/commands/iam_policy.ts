/** `certrole iam policy`: a least-privilege permissions policy, as JSON ready for file://. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { permissionsPolicy } from "../iam/documents.ts";

export const command: Command = {
  name: "iam policy",
  summary: "print a least-privilege permissions policy for the role",
  usage: "certrole iam policy --allow SERVICE:ACTION [--allow ...] [--resource ARN ...]",
  description: `
Prints the walkthrough's policy.json: one Allow statement (Version 2012-10-17) with exactly the
actions you name, on the resources you name ("*" when none: some actions, like
s3:ListAllMyBuckets, only take "*"). Actions must look like service:Action (wildcards such as
ec2:Describe* are accepted); resources must be "*" or ARNs.`,
  flags: {
    "allow": {
      type: "list",
      value: "ACTION",
      description: "an action to allow, like s3:ListAllMyBuckets (comma-separated lists too)",
    },
    "resource": { type: "list", value: "ARN", description: 'a resource ARN the actions apply to (default "*")' },
  },
  examples: [
    "certrole iam policy --allow s3:ListAllMyBuckets > policy.json",
    "aws iam put-role-policy --role-name bucket-lister --policy-name list-buckets --policy-document file://policy.json",
    "",
    "certrole iam policy --allow s3:GetObject,s3:PutObject --resource 'arn:aws:s3:::my-bucket/*'",
  ],
  run(flags) {
    const allow = ((flags.values.allow as string[] | undefined) ?? [])
      .flatMap((item) => item.split(","))
      .map((item) => item.trim())
      .filter(Boolean);
    const document = permissionsPolicy({ allow, resources: (flags.values.resource as string[] | undefined) ?? [] });
    writeStdout(JSON.stringify(document, null, 2) + "\n");
    return Promise.resolve(0);
  },
};
