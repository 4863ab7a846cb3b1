import type { AuditFilter } from "../../bindings";

/**
 * Query keys of the audit area. Verifying the chain or printing its report writes a record
 * (`audit.verified`, `audit.report_generated`), so both invalidate `all`: the trail shows it.
 */
export const auditKeys = {
  all: ["audit"] as const,
  trail: (filter: AuditFilter) => ["audit", "trail", filter] as const,
};
