import { describe, expect, it } from "vitest";
import { KIND_GROUPS, KNOWN_KINDS } from "./auditFormat";

describe("the audit filter's kind groups", () => {
  // KNOWN_KINDS comes from the core's registry: a new area's kinds fail here until grouped.
  it.each(KNOWN_KINDS)("%s is in exactly one group", (kind) => {
    expect(KIND_GROUPS.filter((g) => kind.startsWith(`${g}.`))).toHaveLength(1);
  });

  it.each(KIND_GROUPS)("group %s holds some kind", (group) => {
    expect(KNOWN_KINDS.some((k) => k.startsWith(`${group}.`))).toBe(true);
  });
});
