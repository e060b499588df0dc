/**
 * Amazon Resource Names: parsing and the checks certrole makes on the ARNs users pass in.
 *
 * @example
 * ```ts
 * parseArn("arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/abc").region; // "us-east-1"
 * ```
 */
import { fail } from "./errors.ts";

export interface Arn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  readonly resource: string;
  readonly text: string;
}

/** Parses an ARN, or returns undefined when the text is not one. */
export function tryParseArn(text: string): Arn | undefined {
  const parts = text.split(":");
  if (parts.length < 6 || parts[0] !== "arn" || !parts[1] || !parts[2]) return undefined;
  const [, partition, service, region, account] = parts;
  const resource = parts.slice(5).join(":");
  if (!resource) return undefined;
  return { partition, service, region, account, resource, text };
}

export function parseArn(text: string, what = "ARN"): Arn {
  return tryParseArn(text) ??
    fail("InvalidSetting", `${what} "${text}" is not an ARN (expected arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)`);
}

/** Checks an ARN's service and resource type, e.g. rolesanywhere + trust-anchor/. */
export function expectArn(text: string, what: string, service: string, resourcePrefix: string, setting: string): Arn {
  const arn = tryParseArn(text);
  const example = `arn:aws:${service}:${service === "iam" ? "" : "us-east-1"}:123456789012:${resourcePrefix}…`;
  if (!arn || arn.service !== service || !arn.resource.startsWith(resourcePrefix)) {
    fail("InvalidSetting", `${what} "${text}" is not an ARN like ${example}: fix ${setting}`);
  }
  if (service !== "iam" && !arn.region) fail("InvalidSetting", `${what} "${text}" has no region: fix ${setting}`);
  return arn;
}
