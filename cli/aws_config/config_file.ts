/**
 * AWS shared config files (~/.aws/config): which profile section is which, and a merged copy in
 * which one profile gets certrole's credential_process. The user's other profiles, settings and
 * comments are kept line for line; in the target profile, settings that would take precedence
 * over credential_process in some SDK (static keys, role chaining, SSO, web identity) are
 * removed. Pure: text in, text out.
 *
 * @example
 * ```ts
 * mergeProfile("[default]\nregion = eu-west-1\n", "default", { credentialProcess: "certrole credential-process ...", region: "us-east-1" });
 * ```
 */

/** Settings another credential source would use instead of (or before) credential_process. */
const CONFLICTING = new Set([
  "credential_process",
  "aws_access_key_id",
  "aws_secret_access_key",
  "aws_session_token",
  "role_arn",
  "source_profile",
  "credential_source",
  "role_session_name",
  "external_id",
  "mfa_serial",
  "web_identity_token_file",
  "sso_session",
  "sso_start_url",
  "sso_region",
  "sso_account_id",
  "sso_role_name",
]);

/** The section header AWS clients read for a profile in the config file. */
export function profileHeader(profile: string): string {
  return profile === "default" ? "[default]" : `[profile ${profile}]`;
}

/**
 * For a section header line: the profile it defines, or null for other sections
 * ([sso-session x], [services y]); undefined when the line is not a header.
 */
function sectionProfile(line: string): string | null | undefined {
  const match = line.trim().match(/^\[\s*(profile\s+)?([^\]]+?)\s*\]$/);
  if (!match) return undefined;
  return match[1] || match[2] === "default" ? match[2] : null;
}

export interface ProfileSettings {
  /** The credential_process command line, already shell-quoted; none for exec --supervise (the container provider). */
  readonly credentialProcess?: string;
  /** Written unless the user's profile already sets a region. */
  readonly region: string;
}

export interface MergeResult {
  readonly text: string;
  /** Settings removed from the user's profile because they would shadow credential_process. */
  readonly removed: readonly string[];
  /** The region the profile ends up with. */
  readonly region: string;
}

export function mergeProfile(existing: string | undefined, profile: string, settings: ProfileSettings): MergeResult {
  const lines = (existing ?? "").split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  const out: string[] = [];
  const removed: string[] = [];
  let inTarget = false;
  let found = false;
  let skippingNested = false;
  let region: string | undefined;
  const closeTarget = () => {
    if (!inTarget) return;
    while (out.length && out.at(-1)!.trim() === "") out.pop();
    if (region === undefined) out.push(`region = ${settings.region}`);
    if (settings.credentialProcess !== undefined) out.push(`credential_process = ${settings.credentialProcess}`);
    out.push("");
    inTarget = false;
  };
  for (const line of lines) {
    const header = sectionProfile(line);
    if (header !== undefined) {
      closeTarget();
      skippingNested = false;
      if (header === profile) {
        inTarget = true;
        found = true;
        out.push(profileHeader(profile));
        continue;
      }
    } else if (inTarget) {
      const indented = /^\s+\S/.test(line);
      if (indented && skippingNested) continue;
      const key = line.match(/^([A-Za-z0-9_.-]+)\s*=/)?.[1]?.toLowerCase();
      if (key && CONFLICTING.has(key)) {
        removed.push(key);
        skippingNested = true;
        continue;
      }
      skippingNested = false;
      if (key === "region") region = line.slice(line.indexOf("=") + 1).trim();
    }
    out.push(line);
  }
  closeTarget();
  if (!found) {
    if (out.length && out.at(-1)!.trim() !== "") out.push("");
    out.push(profileHeader(profile), `region = ${settings.region}`);
    if (settings.credentialProcess !== undefined) out.push(`credential_process = ${settings.credentialProcess}`);
    out.push("");
    region = settings.region;
  }
  return { text: out.join("\n").replace(/\n*$/, "\n"), removed, region: region ?? settings.region };
}
