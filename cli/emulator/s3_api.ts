/**
 * S3 for the walkthrough, path-style: ListBuckets (GET /), CreateBucket (PUT /bucket),
 * DeleteBucket (DELETE /bucket), each authorised with the caller's policies.
 */
import { type Caller, isAllowed } from "./caller.ts";
import { escapeXml, Fault } from "./fault.ts";
import { xml } from "./query_protocol.ts";
import type { ReceivedRequest } from "./sigv4_verify.ts";
import { arnOf, type EmulatorState } from "./state.ts";

function accessDenied(): Fault {
  return new Fault(403, "AccessDenied", "Access Denied");
}

function xmlResponse(body: string, requestId: string, status = 200): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, {
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
  });
}

/** A path segment, percent-decoded; S3 answers a malformed escape with 400 InvalidURI. */
function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new Fault(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
}

const BUCKET_NAME = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function handleS3(
  request: ReceivedRequest,
  caller: Caller,
  state: EmulatorState,
  now: Date,
  requestId: string,
): Response | Promise<Response> {
  const bucket = decodedSegment(request.url.pathname.split("/")[1] ?? "");
  const rest = request.url.pathname.split("/").slice(2).join("/");
  if (rest) throw new Fault(501, "NotImplemented", "Object operations are not emulated");
  if (request.method === "GET" && bucket === "") {
    if (!isAllowed(caller, "s3:ListAllMyBuckets", "*", state)) throw accessDenied();
    const buckets = Object.values(state.buckets)
      .map((entry) => `<Bucket>${xml("Name", entry.name)}${xml("CreationDate", entry.creationDate)}</Bucket>`)
      .join("");
    return xmlResponse(
      `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner>${xml("ID", state.accountId)}${
        xml("DisplayName", "emulator")
      }</Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
      requestId,
    );
  }
  if (request.method === "PUT" && bucket) {
    if (!isAllowed(caller, "s3:CreateBucket", arnOf(state, "s3", bucket), state)) throw accessDenied();
    if (!BUCKET_NAME.test(bucket)) throw new Fault(400, "InvalidBucketName", "The specified bucket is not valid.");
    if (state.buckets[bucket]) {
      throw new Fault(
        409,
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
      );
    }
    state.buckets[bucket] = { name: bucket, creationDate: now.toISOString(), owner: caller.arn };
    return new Response(null, {
      status: 200,
      headers: { location: `/${escapeXml(bucket)}`, "x-amz-request-id": requestId },
    });
  }
  if (request.method === "DELETE" && bucket) {
    if (!isAllowed(caller, "s3:DeleteBucket", arnOf(state, "s3", bucket), state)) throw accessDenied();
    if (!state.buckets[bucket]) throw new Fault(404, "NoSuchBucket", "The specified bucket does not exist");
    delete state.buckets[bucket];
    return new Response(null, { status: 204, headers: { "x-amz-request-id": requestId } });
  }
  if ((request.method === "HEAD" || request.method === "GET") && bucket) {
    if (!state.buckets[bucket]) throw new Fault(404, "NoSuchBucket", "The specified bucket does not exist");
    if (!isAllowed(caller, "s3:ListBucket", arnOf(state, "s3", bucket), state)) throw accessDenied();
    if (request.method === "HEAD") {
      return new Response(null, { status: 200, headers: { "x-amz-request-id": requestId } });
    }
    return xmlResponse(
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${
        xml("Name", bucket)
      }<Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`,
      requestId,
    );
  }
  throw new Fault(501, "NotImplemented", `${request.method} ${request.url.pathname} is not emulated`);
}
