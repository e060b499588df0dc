/**
 * How `certrole iam setup` marks what it made, so that it and `iam cleanup` never change or
 * delete what they did not make. IAM roles and Roles Anywhere trust anchors and profiles take
 * tags; certrole's are:
 * - `certrole:managed-by` = `certrole` on every role, trust anchor and profile certrole created
 *   (or was told to adopt): the only ones setup changes and cleanup deletes;
 * - `certrole:policy` = NAME on a role: the one inline policy certrole wrote on it;
 * - `certrole:role/ROLE` (empty value) on a trust anchor, one per role certrole set up to trust
 *   it, since roles on one CA share its anchor;
 * - `certrole:role` = ROLE on a profile: the role certrole made it for.
 *
 * IAM names may hold `,`, which tags cannot; in tags it is written `:`, which IAM names cannot
 * hold, so the mapping goes both ways. Pure.
 *
 * @example
 * ```ts
 * isManaged([{ key: "certrole:managed-by", value: "certrole" }]); // true
 * roleUserKey("reader,ci"); // "certrole:role/reader:ci"
 * ```
 */

/** A tag as Roles Anywhere spells it; IAM's `{ Key, Value }` are converted to it. */
export interface Tag {
  readonly key: string;
  readonly value: string;
}

export const MANAGED_BY = "certrole:managed-by";
export const MANAGER = "certrole";
export const POLICY_TAG = "certrole:policy";
export const PROFILE_ROLE_TAG = "certrole:role";
const ROLE_USER_PREFIX = "certrole:role/";

/** An IAM name as a tag may hold it. */
export function tagText(name: string): string {
  return name.replaceAll(",", ":");
}

/** The IAM name a tag holds. */
export function nameFromTag(text: string): string {
  return text.replaceAll(":", ",");
}

export function tagValue(tags: readonly Tag[], key: string): string | undefined {
  return tags.find((tag) => tag.key === key)?.value;
}

/** Whether certrole made (or adopted) the resource carrying these tags. */
export function isManaged(tags: readonly Tag[]): boolean {
  return tagValue(tags, MANAGED_BY) === MANAGER;
}

/** The tag that records that `roleName` trusts a trust anchor. */
export function roleUserKey(roleName: string): string {
  return ROLE_USER_PREFIX + tagText(roleName);
}

/** The roles a trust anchor's tags say certrole set up to trust it. */
export function roleUsers(tags: readonly Tag[]): string[] {
  return tags.filter((tag) => tag.key.startsWith(ROLE_USER_PREFIX))
    .map((tag) => nameFromTag(tag.key.slice(ROLE_USER_PREFIX.length)));
}

/** The inline policy certrole wrote on a role, by its tags. */
export function certrolePolicy(tags: readonly Tag[]): string | undefined {
  const value = tagValue(tags, POLICY_TAG);
  return value === undefined ? undefined : nameFromTag(value);
}

/** The role a profile's tags say certrole made it for. */
export function profileRole(tags: readonly Tag[]): string | undefined {
  const value = tagValue(tags, PROFILE_ROLE_TAG);
  return value === undefined ? undefined : nameFromTag(value);
}

const MANAGED: Tag = { key: MANAGED_BY, value: MANAGER };

export function roleTags(policyName: string): Tag[] {
  return [MANAGED, { key: POLICY_TAG, value: tagText(policyName) }];
}

export function trustAnchorTags(roleName: string): Tag[] {
  return [MANAGED, { key: roleUserKey(roleName), value: "" }];
}

export function profileTags(roleName: string): Tag[] {
  return [MANAGED, { key: PROFILE_ROLE_TAG, value: tagText(roleName) }];
}

/** Tags in `wanted` that `tags` lacks or holds with another value. */
export function missingTags(tags: readonly Tag[], wanted: readonly Tag[]): Tag[] {
  return wanted.filter((tag) => tagValue(tags, tag.key) !== tag.value);
}
