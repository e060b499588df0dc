/** What `iam setup` and `iam cleanup` report for each resource, and the line they print for it. */

/** `adopted`: setup took over something certrole did not make; `kept`: cleanup left it in place. */
export type Change = "created" | "updated" | "unchanged" | "adopted" | "deleted" | "kept" | "absent";

export interface Step {
  readonly what: string;
  readonly change: Change;
  readonly arn?: string;
  /** Why, when the change alone does not say (a kept trust anchor: who still uses it). */
  readonly note?: string;
}

/** `✓ trust anchor myPrivateCA: kept (still used by role b)` */
export function stepLine(step: Step): string {
  const change = step.change === "absent" ? "already gone" : step.change;
  return `✓ ${step.what}: ${change}${step.note ? ` (${step.note})` : ""}`;
}
