/**
 * Query keys of the patients area. A registration or edit invalidates `searches` (the open file
 * is replaced by the saved one, not read again: reading a file records that it was viewed).
 */
export const patientKeys = {
  searches: ["patients", "search"] as const,
  search: (q: string) => ["patients", "search", q] as const,
  file: (id: string) => ["patients", "file", id] as const,
};
