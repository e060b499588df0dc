/** A time as AWS writes it in documents and answers: ISO 8601 in UTC, to the second (2026-12-02T03:04:05Z). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
