/**
 * A region name is what AWS's partition data allows, decided in one place (cli/aws_partitions.ts)
 * for the CreateSession client, the iam documents and the emulator: every partition's regions,
 * the European Sovereign Cloud's eusc-de-east-1 included (it was refused), each with its DNS suffix.
 */
import assert from "node:assert/strict";
import { parseArn } from "../cli/arn.ts";
import { isRegionName, partitionOfRegion } from "../cli/aws_partitions.ts";
import { resolveEndpoint } from "../cli/rolesanywhere/endpoint.ts";
import { spawnEmulator } from "./support/emulator.ts";
import { certrole, tempDir } from "./support/run.ts";

/** A region of each partition in the SDKs' partitions.json, and its endpoint domain. */
const REGIONS: readonly [string, string, string][] = [
  ["us-east-1", "aws", "amazonaws.com"],
  ["mx-central-1", "aws", "amazonaws.com"],
  ["cn-northwest-1", "aws-cn", "amazonaws.com.cn"],
  ["us-gov-west-1", "aws-us-gov", "amazonaws.com"],
  ["us-iso-east-1", "aws-iso", "c2s.ic.gov"],
  ["us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"],
  ["eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"],
  ["us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov"],
  ["eusc-de-east-1", "aws-eusc", "amazonaws.eu"],
];

Deno.test("every partition's regions are region names, with the partition's endpoint domain", () => {
  for (const [region, partition, domain] of REGIONS) {
    assert.equal(partitionOfRegion(region)?.id, partition, region);
    const anchor = parseArn(`arn:${partition}:rolesanywhere:${region}:123456789012:trust-anchor/t`);
    const profile = parseArn(`arn:${partition}:rolesanywhere:${region}:123456789012:profile/p`);
    assert.deepEqual(resolveEndpoint({ trustAnchor: anchor, profile }, () => undefined), {
      region,
      endpoint: `https://rolesanywhere.${region}.${domain}`,
    });
  }
  for (const name of ["mars", "us-east", "aws-global", "eusc-fr-east-1", "US-EAST-1", "us-east-1 ", "constructor"]) {
    assert.equal(isRegionName(name), false, name);
  }
});

Deno.test("iam trust-policy takes a trust anchor in the European Sovereign Cloud", async () => {
  const arn = "arn:aws-eusc:rolesanywhere:eusc-de-east-1:123456789012:trust-anchor/a1b2";
  const result = await certrole(["iam", "trust-policy", "--cn", "myContainer", "--trust-anchor-arn", arn]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /eusc-de-east-1/);
});

Deno.test("the emulator runs as an eusc-de-east-1 region", async () => {
  const emulator = await spawnEmulator(await tempDir(), ["--region", "eusc-de-east-1"]);
  try {
    assert.equal(emulator.exports.AWS_DEFAULT_REGION, "eusc-de-east-1");
  } finally {
    await emulator.stop();
  }
});
