/** Query keys of the devices area: a revocation invalidates `all`. */
export const deviceKeys = {
  all: ["devices"] as const,
  overview: ["devices", "overview"] as const,
  /** The branch's workstations as this one knows them (the Users screen's cashier terminals). */
  branch: ["devices", "branch"] as const,
};
