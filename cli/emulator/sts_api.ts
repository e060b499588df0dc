/** STS GetCallerIdentity: who the credentials belong to (needs no permission, as in AWS). */
import type { Caller } from "./caller.ts";
import { Fault, QUERY_NAMESPACES } from "./fault.ts";
import { queryParameters, queryResponse, xml } from "./query_protocol.ts";
import type { ReceivedRequest } from "./sigv4_verify.ts";
import type { EmulatorState } from "./state.ts";

export function handleSts(request: ReceivedRequest, caller: Caller, state: EmulatorState, requestId: string): Response {
  const action = queryParameters(request).get("Action");
  if (action !== "GetCallerIdentity") {
    throw new Fault(
      400,
      "InvalidAction",
      `Could not find operation ${action} (the emulator answers GetCallerIdentity)`,
    );
  }
  return queryResponse(
    "GetCallerIdentity",
    QUERY_NAMESPACES["sts-query"],
    `${xml("Arn", caller.arn)}${xml("UserId", caller.userId)}${xml("Account", state.accountId)}`,
    requestId,
  );
}
