/**
 * What AWS requires of a SigV4 request before its signature can mean anything: the payload hash
 * the canonical request is built on (the received body's, except where S3 lets the
 * x-amz-content-sha256 header stand in for it). Each refusal is the calling service's own error.
 */
import { Fault } from "./fault.ts";
import type { ReceivedRequest } from "./sigv4_verify.ts";

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
