/** EC2 for the walkthrough: DescribeInstances, which the bucket-lister role must be refused. */
import { type Caller, isAllowed, notAuthorized } from "./caller.ts";
import { Fault } from "./fault.ts";
import { queryParameters } from "./query_protocol.ts";
import type { ReceivedRequest } from "./sigv4_verify.ts";
import type { EmulatorState } from "./state.ts";

export function handleEc2(request: ReceivedRequest, caller: Caller, state: EmulatorState, requestId: string): Response {
  const action = queryParameters(request).get("Action");
  if (action !== "DescribeInstances") {
    throw new Fault(
      400,
      "InvalidAction",
      `The action ${action} is not valid for this web service (the emulator answers DescribeInstances).`,
    );
  }
  if (!isAllowed(caller, "ec2:DescribeInstances", "*", state)) {
    throw new Fault(
      403,
      "UnauthorizedOperation",
      `You are not authorized to perform this operation. ${notAuthorized(caller, "ec2:DescribeInstances")}`,
    );
  }
  return new Response(
    `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${requestId}</requestId><reservationSet/></DescribeInstancesResponse>`,
    { status: 200, headers: { "content-type": "text/xml" } },
  );
}
