/**
 * Tags on the emulator's resources, with each service's own rules. From the API models
 * (botocore's iam/2010-05-08 and rolesanywhere/2018-05-10) and IAM's "Tagging IAM resources":
 * - IAM roles: keys of 1-128 and values of 0-256 letters, digits, spaces or `_.:/=+-@` in any
 *   script; at most 50 a role; keys compared without regard to case (adding `department`
 *   replaces `Department`), case kept as last written.
 * - Roles Anywhere: the same lengths, ASCII only; at most 200 a resource (the current model's
 *   TagList maximum: the AWS CLI 2.9.19's older model says 50); keys compared exactly.
 * Both refuse keys starting with `aws:` (reserved for AWS) and a key given twice. A request's
 * tags are checked whole before any is applied, as the services do ("the entire request
 * fails"). Pure functions.
 */
import { Fault, validation } from "./fault.ts";
import type { Tag } from "./state.ts";

export interface TagRules {
  readonly keyPattern: RegExp;
  readonly valuePattern: RegExp;
  readonly maxTags: number;
  readonly sameKey: (a: string, b: string) => boolean;
  /** A key or value that breaks the model's pattern or length. */
  readonly malformed: (message: string) => Fault;
  /** A reserved or repeated key. */
  readonly invalid: (message: string) => Fault;
  /** More tags than a resource may carry. */
  readonly tooMany: (message: string) => Fault;
}

export const IAM_TAG_RULES: TagRules = {
  keyPattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u,
  valuePattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u,
  maxTags: 50,
  sameKey: (a, b) => a.toLowerCase() === b.toLowerCase(),
  malformed: (message) => new Fault(400, "ValidationError", message),
  invalid: (message) => new Fault(400, "InvalidInput", message),
  tooMany: (message) => new Fault(409, "LimitExceeded", message),
};

export const ROLES_ANYWHERE_TAG_RULES: TagRules = {
  keyPattern: /^[ a-zA-Z0-9_.:/=+@-]{1,128}$/,
  valuePattern: /^[ a-zA-Z0-9_.:/=+@-]{0,256}$/,
  maxTags: 200,
  sameKey: (a, b) => a === b,
  malformed: validation,
  invalid: validation,
  tooMany: (message) => new Fault(400, "TooManyTagsException", message),
};

function checkKey(key: string, rules: TagRules): void {
  if (!rules.keyPattern.test(key)) {
    throw rules.malformed(
      `Tag key "${key}" must be 1 to 128 characters of letters, digits, spaces and _.:/=+-@`,
    );
  }
}

/** A request's tags: each well formed, none reserved, no key twice, not more than a resource may carry. */
export function checkTags(tags: readonly Tag[], rules: TagRules): void {
  if (tags.length > rules.maxTags) throw rules.tooMany(`A resource can have at most ${rules.maxTags} tags`);
  tags.forEach((tag, index) => {
    checkKey(tag.key, rules);
    if (!rules.valuePattern.test(tag.value)) {
      throw rules.malformed(
        `Tag value "${tag.value}" must be 0 to 256 characters of letters, digits, spaces and _.:/=+-@`,
      );
    }
    if (/^aws:/i.test(tag.key)) throw rules.invalid(`Tag key "${tag.key}": the aws: prefix is reserved for AWS`);
    if (tags.slice(0, index).some((earlier) => rules.sameKey(earlier.key, tag.key))) {
      throw rules.invalid(`Duplicate tag key "${tag.key}"`);
    }
  });
}

/** `existing` with `added` applied: a tag whose key is already there replaces it in place. */
export function withTags(existing: readonly Tag[] | undefined, added: readonly Tag[], rules: TagRules): Tag[] {
  checkTags(added, rules);
  const replaced = (existing ?? []).map((tag) => added.find((next) => rules.sameKey(next.key, tag.key)) ?? tag);
  const appended = added.filter((next) => !replaced.some((tag) => rules.sameKey(tag.key, next.key)));
  const result = [...replaced, ...appended].map(({ key, value }) => ({ key, value }));
  if (result.length > rules.maxTags) {
    throw rules.tooMany(`A resource can have at most ${rules.maxTags} tags; this would give it ${result.length}`);
  }
  return result;
}

/** `existing` without the tags whose keys are listed; keys it does not carry are ignored, as the services do. */
export function withoutTags(existing: readonly Tag[] | undefined, keys: readonly string[], rules: TagRules): Tag[] {
  if (keys.length > rules.maxTags) throw rules.malformed(`At most ${rules.maxTags} tag keys can be removed at once`);
  keys.forEach((key) => checkKey(key, rules));
  return (existing ?? []).filter((tag) => !keys.some((key) => rules.sameKey(key, tag.key)));
}
