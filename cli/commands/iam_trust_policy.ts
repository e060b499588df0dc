/** `certrole iam trust-policy`: the role's trust policy for IAM Roles Anywhere, as JSON ready for file://. */
import type { Command } from "../command.ts";
import { writeStdout } from "../command.ts";
import { trustPolicy } from "../iam/documents.ts";

export const command: Command = {
  name: "iam trust-policy",
  summary: "print a role trust policy for Roles Anywhere, conditioned on the certificate",
  usage: "certrole iam trust-policy --cn NAME [--issuer-cn NAME] [--trust-anchor-arn ARN] [--san-dns NAME] [flags]",
  description: `
Prints the walkthrough's trust-policy.json instead of having you write it: Principal Service
rolesanywhere.amazonaws.com may sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity, on
condition (StringEquals) that the certificate carries the attributes you give, which Roles
Anywhere maps to session tags (aws:PrincipalTag/x509Subject/CN, x509Issuer/CN, x509SAN/DNS...).
With --trust-anchor-arn, only sessions from that trust anchor (ArnEquals aws:SourceArn).

At least one condition is required: a trust policy without one lets every certificate the trust
anchor accepts assume the role.`,
  flags: {
    "cn": { type: "string", value: "NAME", description: "certificate subject CN (x509Subject/CN)" },
    "org": { type: "string", value: "NAME", description: "certificate subject O (x509Subject/O)" },
    "org-unit": { type: "string", value: "NAME", description: "certificate subject OU (x509Subject/OU)" },
    "issuer-cn": { type: "string", value: "NAME", description: "issuing CA's CN (x509Issuer/CN)" },
    "san-dns": { type: "list", value: "NAME", description: "a DNS subject alternative name (x509SAN/DNS)" },
    "san-uri": { type: "list", value: "URI", description: "a URI subject alternative name (x509SAN/URI)" },
    "trust-anchor-arn": { type: "list", value: "ARN", description: "trust anchor allowed to vend sessions" },
  },
  examples: [
    "certrole iam trust-policy --cn myContainer > trust-policy.json",
    "aws iam create-role --role-name bucket-lister --assume-role-policy-document file://trust-policy.json",
    "",
    "certrole iam trust-policy --cn myContainer --issuer-cn myPrivateCA \\",
    "    --trust-anchor-arn arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/TA_ID",
  ],
  run(flags) {
    const value = (name: string) => flags.values[name] as string | undefined;
    const list = (name: string) => (flags.values[name] as string[] | undefined) ?? [];
    const subject: Record<string, string> = {};
    if (value("org") !== undefined) subject.O = value("org")!;
    if (value("org-unit") !== undefined) subject.OU = value("org-unit")!;
    const document = trustPolicy({
      cn: value("cn"),
      subject,
      issuerCn: value("issuer-cn"),
      sanDns: list("san-dns"),
      sanUri: list("san-uri"),
      trustAnchorArns: list("trust-anchor-arn"),
    });
    writeStdout(JSON.stringify(document, null, 2) + "\n");
    return Promise.resolve(0);
  },
};
