/**
 * The AWS Query protocol (IAM, STS, EC2): parameters from a form-encoded body or the query
 * string, `Prefix.member.N` lists, and XML answers wrapped the way each service wraps them.
 */
import { escapeXml } from "./fault.ts";
import type { ReceivedRequest } from "./sigv4_verify.ts";

export function queryParameters(request: ReceivedRequest): URLSearchParams {
  const parameters = new URLSearchParams(request.url.search);
  if (request.method === "POST" && request.body.length > 0) {
    for (const [key, value] of new URLSearchParams(new TextDecoder().decode(request.body))) {
      parameters.append(key, value);
    }
  }
  return parameters;
}

/** Values of `Prefix.member.1`, `Prefix.member.2`, ..., the Query protocol's list of strings. */
export function memberList(parameters: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let i = 1;; i++) {
    const value = parameters.get(`${prefix}.member.${i}`);
    if (value === null) return values;
    values.push(value);
  }
}

export function xml(tag: string, value: string | number | boolean | undefined): string {
  return value === undefined ? "" : `<${tag}>${escapeXml(String(value))}</${tag}>`;
}

/** `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` as IAM and STS answer. */
export function queryResponse(action: string, namespace: string, result: string, requestId: string): Response {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${namespace}">` +
    (result === "" ? "" : `<${action}Result>${result}</${action}Result>`) +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  return new Response(body, { status: 200, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId } });
}
