/**
 * Region and endpoint: flags, the trust anchor's region, AWS_ENDPOINT_URL_ROLESANYWHERE, partitions
 * and FIPS; an endpoint without a scheme is https://, as AWS's helper takes it.
 */
import assert from "node:assert/strict";
import { parseArn } from "../cli/arn.ts";
import { CertroleError } from "../cli/errors.ts";
import { resolveEndpoint } from "../cli/rolesanywhere/endpoint.ts";

const anchor = (partition: string, region: string) =>
  parseArn(`arn:${partition}:rolesanywhere:${region}:123456789012:trust-anchor/x`);
const profile = (partition: string, region: string) =>
  parseArn(`arn:${partition}:rolesanywhere:${region}:123456789012:profile/y`);
const env = (values: Record<string, string>) => (name: string) => values[name];

Deno.test("the region comes from the trust anchor ARN unless --region says otherwise", () => {
  const base = { trustAnchor: anchor("aws", "eu-central-1"), profile: profile("aws", "eu-central-1") };
  assert.deepEqual(resolveEndpoint(base, env({})), {
    region: "eu-central-1",
    endpoint: "https://rolesanywhere.eu-central-1.amazonaws.com",
  });
  assert.equal(
    resolveEndpoint({ ...base, region: "eu-west-1" }, env({})).endpoint,
    "https://rolesanywhere.eu-west-1.amazonaws.com",
  );
});

Deno.test("--endpoint beats AWS_ENDPOINT_URL_ROLESANYWHERE beats AWS_ENDPOINT_URL", () => {
  const base = { trustAnchor: anchor("aws", "us-east-1"), profile: profile("aws", "us-east-1") };
  const all = env({ AWS_ENDPOINT_URL_ROLESANYWHERE: "http://127.0.0.1:1", AWS_ENDPOINT_URL: "http://127.0.0.1:2" });
  assert.equal(resolveEndpoint({ ...base, endpoint: "https://example.test/" }, all).endpoint, "https://example.test");
  assert.equal(resolveEndpoint(base, all).endpoint, "http://127.0.0.1:1");
  assert.equal(resolveEndpoint(base, env({ AWS_ENDPOINT_URL: "http://127.0.0.1:2" })).endpoint, "http://127.0.0.1:2");
});

Deno.test("China partition and FIPS endpoints", () => {
  assert.equal(
    resolveEndpoint({ trustAnchor: anchor("aws-cn", "cn-north-1"), profile: profile("aws-cn", "cn-north-1") }, env({}))
      .endpoint,
    "https://rolesanywhere.cn-north-1.amazonaws.com.cn",
  );
  assert.equal(
    resolveEndpoint(
      { trustAnchor: anchor("aws", "us-east-1"), profile: profile("aws", "us-east-1") },
      env({ AWS_USE_FIPS_ENDPOINT: "true" }),
    )
      .endpoint,
    "https://rolesanywhere-fips.us-east-1.amazonaws.com",
  );
});

Deno.test("mismatched regions, bad regions and bad endpoints are user errors", () => {
  const mismatch = () =>
    resolveEndpoint({ trustAnchor: anchor("aws", "us-east-1"), profile: profile("aws", "us-west-2") }, env({}));
  assert.throws(
    mismatch,
    (error: unknown) =>
      error instanceof CertroleError && /us-east-1 but the profile is in us-west-2/.test(error.message),
  );
  const base = { trustAnchor: anchor("aws", "us-east-1"), profile: profile("aws", "us-east-1") };
  assert.throws(() => resolveEndpoint({ ...base, region: "mars" }, env({})), /region "mars" is not an AWS region name/);
  assert.throws(
    () => resolveEndpoint({ ...base, endpoint: "ftp://x" }, env({})),
    /must start with https:\/\/ or http:\/\//,
  );
  assert.throws(() => resolveEndpoint({ ...base, endpoint: "not a url" }, env({})), /is not a URL/);
});

Deno.test("an endpoint without a scheme is https://", () => {
  const base = { trustAnchor: anchor("aws", "us-east-1"), profile: profile("aws", "us-east-1") };
  assert.equal(
    resolveEndpoint({ ...base, endpoint: "rolesanywhere.us-east-1.amazonaws.com" }, env({})).endpoint,
    "https://rolesanywhere.us-east-1.amazonaws.com",
  );
  assert.equal(
    resolveEndpoint(base, env({ AWS_ENDPOINT_URL_ROLESANYWHERE: "localhost:4599/" })).endpoint,
    "https://localhost:4599",
  );
  assert.equal(
    resolveEndpoint({ ...base, endpoint: "http://127.0.0.1:4599" }, env({})).endpoint,
    "http://127.0.0.1:4599",
  );
});
