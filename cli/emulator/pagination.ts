/**
 * Paging through lists the way AWS list operations do: an opaque token (IAM's Marker, Roles
 * Anywhere's nextToken) that says where the next page starts, and a page size with a default
 * and a maximum. Pure.
 */
import type { Fault } from "./fault.ts";

export interface Page<T> {
  readonly items: T[];
  /** Present when more items follow. */
  readonly next?: string;
}

/**
 * One page of `items` starting at `token`. `invalid` builds the service's own error for a bad
 * token or size.
 */
export function page<T>(
  items: readonly T[],
  token: string | null | undefined,
  size: string | number | null | undefined,
  limits: { readonly default: number; readonly max: number },
  invalid: (message: string) => Fault,
): Page<T> {
  const pageSize = size === null || size === undefined || size === "" ? limits.default : Number(size);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > limits.max) {
    throw invalid(`page size must be an integer from 1 to ${limits.max}`);
  }
  let start = 0;
  if (token) {
    start = Number(token.match(/^p(\d+)$/)?.[1] ?? NaN);
    if (!Number.isInteger(start) || start > items.length) throw invalid("the pagination token is invalid");
  }
  const end = start + pageSize;
  return { items: items.slice(start, end), next: end < items.length ? `p${end}` : undefined };
}
