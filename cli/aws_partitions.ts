/**
 * AWS's partitions as the SDKs' partitions.json describes them: which region names belong to
 * each (its regionRegex) and the DNS suffix of its service endpoints. The one place that decides
 * whether a string is a region name, for the CreateSession client, `iam` settings and the
 * emulator. Pure.
 *
 * @example
 * ```ts
 * partitionOfRegion("eusc-de-east-1")?.dnsSuffix; // "amazonaws.eu"
 * isRegionName("mars"); // false
 * ```
 */

export interface Partition {
  readonly id: string;
  readonly regionPattern: RegExp;
  readonly dnsSuffix: string;
}

/** Checked in this order; `\w` as in partitions.json (letters, digits, underscore). */
export const PARTITIONS: readonly Partition[] = [
  { id: "aws", regionPattern: /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/, dnsSuffix: "amazonaws.com" },
  { id: "aws-cn", regionPattern: /^cn-\w+-\d+$/, dnsSuffix: "amazonaws.com.cn" },
  { id: "aws-us-gov", regionPattern: /^us-gov-\w+-\d+$/, dnsSuffix: "amazonaws.com" },
  { id: "aws-iso", regionPattern: /^us-iso-\w+-\d+$/, dnsSuffix: "c2s.ic.gov" },
  { id: "aws-iso-b", regionPattern: /^us-isob-\w+-\d+$/, dnsSuffix: "sc2s.sgov.gov" },
  { id: "aws-iso-e", regionPattern: /^eu-isoe-\w+-\d+$/, dnsSuffix: "cloud.adc-e.uk" },
  { id: "aws-iso-f", regionPattern: /^us-isof-\w+-\d+$/, dnsSuffix: "csp.hci.ic.gov" },
  { id: "aws-eusc", regionPattern: /^eusc-(de)-\w+-\d+$/, dnsSuffix: "amazonaws.eu" },
];

/** The partition whose region pattern the name matches, or undefined for a string that is no region. */
export function partitionOfRegion(region: string): Partition | undefined {
  return PARTITIONS.find((partition) => partition.regionPattern.test(region));
}

export function isRegionName(region: string): boolean {
  return partitionOfRegion(region) !== undefined;
}

export function partitionById(id: string): Partition | undefined {
  return PARTITIONS.find((partition) => partition.id === id);
}
