/**
 * What AWS requires of a SigV4 (HMAC) request before its signature can mean anything: `host`
 * among the signed headers, a credential scope region the service accepts, and the payload hash
 * the canonical request is built on (the received body's, except where S3 lets the
 * x-amz-content-sha256 header stand in for it). Each refusal is the calling service's own error.
 */
import { Fault } from "./fault.ts";
import type { ParsedAuthorization, ReceivedRequest } from "./sigv4_verify.ts";

/**
 * A signature that does not cover `host` can be replayed against another endpoint. AWS refuses
 * it before checking the signature: the Query and JSON services with IncompleteSignature
 * ("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."), S3 with
 * AccessDenied naming the header in HeadersNotSigned. (Error texts as AWS answers them, quoted
 * in the AWS SDKs' issue trackers.)
 */
export function requireSignedHost(auth: ParsedAuthorization): void {
  if (auth.signedHeaders.includes("host")) return;
  if (auth.service === "s3") {
    throw new Fault(
      403,
      "AccessDenied",
      "There were headers present in the request which were not signed (HeadersNotSigned: host)",
    );
  }
  throw new Fault(
    auth.service === "rolesanywhere" ? 403 : 400,
    auth.service === "rolesanywhere" ? "IncompleteSignatureException" : "IncompleteSignature",
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
  );
}

/**
 * The region a partition's global endpoints sign with (IAM in every partition, STS's global
 * endpoint in aws): botocore's endpoint rule sets give IAM `signingRegion` us-east-1 for
 * iam.amazonaws.com (the partition's "implicitGlobalRegion": cn-north-1 in aws-cn,
 * us-gov-west-1 in aws-us-gov) and STS us-east-1 for sts.amazonaws.com.
 */
export function globalSigningRegion(region: string): string {
  if (region.startsWith("cn-")) return "cn-north-1";
  if (region.startsWith("us-gov-")) return "us-gov-west-1";
  return "us-east-1";
}

/**
 * The credential scope regions the emulator accepts for a service, serving `region`:
 * - iam: IAM is global and refuses any scope but its signing region ("SignatureDoesNotMatch:
 *   Credential should be scoped to a valid region, not 'X'."). Given a custom endpoint, as the
 *   emulator always is, botocore and the AWS SDK for JavaScript sign IAM with the client's
 *   configured region instead (checked with botocore: endpoint_url and eu-west-1 give an
 *   eu-west-1 scope), so the emulator's own region is accepted too: the one deliberate
 *   difference.
 * - sts: the global endpoint signs with us-east-1, each regional endpoint with its region
 *   (botocore's STS rule set); the emulator is both.
 * - s3, ec2, rolesanywhere: regional endpoints, only their own region.
 */
export function acceptedRegions(service: string, region: string): readonly string[] {
  if (service === "iam" || service === "sts") return [...new Set([globalSigningRegion(region), region])];
  return [region];
}

/**
 * Refuses a scope region the service does not accept, in its format: S3 answers 400
 * AuthorizationHeaderMalformed naming the region it expected; IAM, STS and EC2 (Query) 403
 * SignatureDoesNotMatch; Roles Anywhere (REST-JSON) 403 InvalidSignatureException.
 */
export function requireScopeRegion(auth: ParsedAuthorization, region: string): void {
  const accepted = acceptedRegions(auth.service, region);
  if (accepted.includes(auth.region)) return;
  if (auth.service === "s3") {
    throw new Fault(
      400,
      "AuthorizationHeaderMalformed",
      `The authorization header is malformed; the region '${auth.region}' is wrong; expecting '${region}'`,
    );
  }
  throw new Fault(
    403,
    auth.service === "rolesanywhere" ? "InvalidSignatureException" : "SignatureDoesNotMatch",
    `Credential should be scoped to a valid region, not '${auth.region}': this endpoint serves ${
      accepted.join(" or ")
    } for ${auth.service}`,
  );
}

/** The x-amz-content-sha256 values S3 takes instead of the body's hash (S3's SigV4 header-auth page). */
const S3_PAYLOAD_MARKERS = new Set([
  "UNSIGNED-PAYLOAD",
  "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
  "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
  "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
]);

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)).toHex();
}

/**
 * The payload hash of the canonical request, as AWS computes it on its side:
 * - every service but S3 hashes the body it received, whatever x-amz-content-sha256 says
 *   (the header is then just another signed header), so a signed request cannot carry
 *   another body and UNSIGNED-PAYLOAD does not sign anything;
 * - S3 requires the header and signs its value: the body's hash (else
 *   XAmzContentSHA256Mismatch), or UNSIGNED-PAYLOAD or a STREAMING-* marker. The emulator
 *   emulates no object operation, so the chunk signatures of a streaming body are not checked.
 */
export async function payloadHash(request: ReceivedRequest, service: string): Promise<string> {
  const bodyHash = await sha256Hex(request.body);
  if (service !== "s3") return bodyHash;
  const header = request.headers.get("x-amz-content-sha256");
  if (header === null) {
    throw new Fault(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }
  if (S3_PAYLOAD_MARKERS.has(header)) return header;
  if (!/^[0-9a-f]{64}$/i.test(header)) {
    throw new Fault(
      400,
      "InvalidArgument",
      "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
    );
  }
  if (header.toLowerCase() !== bodyHash) {
    throw new Fault(
      400,
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  return header;
}
