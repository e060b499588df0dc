/**
 * Which region and URL a CreateSession call goes to, as AWS's signing helper and SDKs decide it:
 * --region, else the trust anchor ARN's region; --endpoint, else AWS_ENDPOINT_URL_ROLESANYWHERE,
 * else AWS_ENDPOINT_URL, else the regional (or FIPS) endpoint in the region's partition. An
 * endpoint without a scheme is https://, as the helper takes it. ARNs and the region are checked
 * against each other first, where a mismatch is certain to fail (a partition that does not own the
 * region, a role or --region in another partition than the trust anchor): a one-line reason
 * before anything is signed or sent, instead of the service's AccessDenied. Pure.
 */
import type { Arn } from "../arn.ts";
import { partitionById, partitionOfRegion, PARTITIONS } from "../aws_partitions.ts";
import { fail } from "../errors.ts";

export interface EndpointChoice {
  readonly region: string;
  readonly endpoint: string;
}

export function resolveEndpoint(
  options: { region?: string; endpoint?: string; trustAnchor: Arn; profile: Arn; role?: Arn },
  env: (name: string) => string | undefined,
): EndpointChoice {
  if (options.trustAnchor.region !== options.profile.region) {
    fail(
      "ConflictingSettings",
      `the trust anchor is in ${options.trustAnchor.region} but the profile is in ${options.profile.region}: Roles Anywhere needs both in one region`,
    );
  }
  for (const [what, arn] of [["trust anchor", options.trustAnchor], ["profile", options.profile]] as const) {
    knownPartition(arn, what);
    const owner = partitionOfRegion(arn.region);
    if (owner && owner.id !== arn.partition) {
      fail(
        "InvalidSetting",
        `the ${what} ARN ${arn.text} names partition ${arn.partition} but its region ${arn.region} is in ${owner.id}: fix the ARN`,
      );
    }
  }
  const anchorPartition = options.trustAnchor.partition;
  if (options.role) {
    knownPartition(options.role, "role");
    if (options.role.partition !== anchorPartition) {
      fail(
        "ConflictingSettings",
        `the role ARN is in partition ${options.role.partition} but the trust anchor is in ${anchorPartition}: a trust anchor vends roles of its own partition only`,
      );
    }
  }
  const region = options.region || options.trustAnchor.region;
  const partition = partitionOfRegion(region);
  if (!partition) {
    fail("InvalidSetting", `region "${region}" is not an AWS region name (like us-east-1): fix --region`);
  }
  if (partition.id !== anchorPartition) {
    fail(
      "ConflictingSettings",
      `--region ${region} is in partition ${partition.id} but the trust anchor is in ${anchorPartition} (${options.trustAnchor.region}): drop --region or give a region of ${anchorPartition}`,
    );
  }
  const explicit = options.endpoint || env("AWS_ENDPOINT_URL_ROLESANYWHERE") || env("AWS_ENDPOINT_URL");
  if (explicit) {
    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(explicit) ? explicit : `https://${explicit}`);
    } catch {
      fail(
        "InvalidSetting",
        `endpoint "${explicit}" is not a URL (like https://rolesanywhere.us-east-1.amazonaws.com)`,
      );
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      fail("InvalidSetting", `endpoint "${explicit}" must start with https:// or http://`);
    }
    return { region, endpoint: url.origin + url.pathname.replace(/\/+$/, "") };
  }
  const domain = partition.dnsSuffix;
  const fips = (env("AWS_USE_FIPS_ENDPOINT") ?? "").toLowerCase() === "true";
  const host = fips ? `rolesanywhere-fips.${region}.${domain}` : `rolesanywhere.${region}.${domain}`;
  return { region, endpoint: `https://${host}` };
}

function knownPartition(arn: Arn, what: string): void {
  if (partitionById(arn.partition)) return;
  fail(
    "InvalidSetting",
    `the ${what} ARN ${arn.text} names partition "${arn.partition}", which is none of AWS's (${
      PARTITIONS.map((partition) => partition.id).join(", ")
    }): fix the ARN`,
  );
}
