/**
 * The AWS shared credentials file (~/.aws/credentials): one profile's keys replaced, every other
 * line, comment and profile kept as it was. Sections there are `[name]` (no `profile ` prefix).
 * The profile's other settings stay; the legacy `aws_security_token` goes, since it would pair an
 * old token with the new keys. Pure: text in, text out.
 *
 * @example
 * ```ts
 * const text = mergeCredentials("[other]\naws_access_key_id = AKIA1\n", "default", {
 *   accessKeyId: "ASIA2",
 *   secretAccessKey: "secret",
 *   sessionToken: "token",
 *   expiration: "2024-01-01T01:00:00Z",
 * }); // "[other]" kept, then "[default]" with the three keys
 * ```
 */
import type { SessionCredentials } from "../rolesanywhere/create_session.ts";

const REPLACED = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"] as const;
const DROPPED = new Set<string>(["aws_security_token"]);

function sectionName(line: string): string | undefined {
  return line.trim().match(/^\[\s*([^\]]+?)\s*\]$/)?.[1];
}

export function mergeCredentials(
  existing: string | undefined,
  profile: string,
  credentials: SessionCredentials,
): string {
  const values: Record<(typeof REPLACED)[number], string> = {
    aws_access_key_id: credentials.accessKeyId,
    aws_secret_access_key: credentials.secretAccessKey,
    aws_session_token: credentials.sessionToken,
  };
  const lines = (existing ?? "").split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  const out: string[] = [];
  let inTarget = false;
  let found = false;
  const written = new Set<string>();
  const closeTarget = () => {
    if (!inTarget) return;
    let end = out.length;
    while (end > 0 && out[end - 1].trim() === "") end--;
    const missing = REPLACED.filter((key) => !written.has(key)).map((key) => `${key} = ${values[key]}`);
    out.splice(end, 0, ...missing);
    inTarget = false;
  };
  for (const line of lines) {
    const name = sectionName(line);
    if (name !== undefined) {
      closeTarget();
      if (name === profile && !found) {
        inTarget = true;
        found = true;
      }
      out.push(line);
      continue;
    }
    if (inTarget) {
      const key = line.match(/^\s*([A-Za-z0-9_.-]+)\s*=/)?.[1]?.toLowerCase();
      if (key && DROPPED.has(key)) continue;
      if (key && (REPLACED as readonly string[]).includes(key)) {
        if (!written.has(key)) out.push(`${key} = ${values[key as keyof typeof values]}`);
        written.add(key);
        continue;
      }
    }
    out.push(line);
  }
  closeTarget();
  if (!found) {
    if (out.length && out.at(-1)!.trim() !== "") out.push("");
    out.push(`[${profile}]`, ...REPLACED.map((key) => `${key} = ${values[key]}`));
  }
  return out.join("\n") + "\n";
}
