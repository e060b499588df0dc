/**
 * AWS-shaped errors inside the emulator: a handler throws a Fault, the server renders it in the
 * calling service's own format (JSON for Roles Anywhere, XML for IAM, STS, S3 and EC2).
 */

export class Fault extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = "Fault";
  }
}

export const accessDenied = (message: string) => new Fault(403, "AccessDeniedException", message);
export const validation = (message: string) => new Fault(400, "ValidationException", message);
export const notFound = (message: string) => new Fault(404, "ResourceNotFoundException", message);

export type Protocol = "rest-json" | "iam-query" | "sts-query" | "ec2-query" | "s3-xml";

/**
 * The XML namespace of each Query-protocol service's answers, errors included: the
 * `xmlNamespace` of its service model in botocore (AWS STS's error example in the STS API
 * reference carries the same), which parsers that check namespaces compare against.
 */
export const QUERY_NAMESPACES = {
  "iam-query": "https://iam.amazonaws.com/doc/2010-05-08/",
  "sts-query": "https://sts.amazonaws.com/doc/2011-06-15/",
} as const satisfies Partial<Record<Protocol, string>>;

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!,
  );
}

export function renderFault(fault: Fault, protocol: Protocol, requestId: string): Response {
  const xml = (body: string) =>
    new Response(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`, {
      status: fault.status,
      headers: { "content-type": "text/xml", "x-amzn-requestid": requestId },
    });
  const code = escapeXml(fault.code);
  const message = escapeXml(fault.message);
  switch (protocol) {
    case "rest-json":
      return new Response(JSON.stringify({ message: fault.message }), {
        status: fault.status,
        headers: {
          "content-type": "application/json",
          "x-amzn-errortype": fault.code,
          "x-amzn-requestid": requestId,
        },
      });
    case "iam-query":
    case "sts-query":
      return xml(
        `<ErrorResponse xmlns="${QUERY_NAMESPACES[protocol]}"><Error><Type>${
          fault.status >= 500 ? "Receiver" : "Sender"
        }</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    case "ec2-query":
      return xml(
        `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      );
    case "s3-xml":
      return xml(`<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`);
  }
}
