// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import type { AuditEntry, AuditFilter, AuditPage, VerifyReport } from "../../bindings";
import { freshAppPerTest, startSignedIn } from "../../test/signedIn";

function entry(seq: number, kind: string): AuditEntry {
  return {
    local_index: seq, seq, device_id: "dev-1", record_id: `r${seq}`, kind, actor_user_id: "u1", actor_name: "Adel Admin",
    actor_role: "admin", business_date: "2030-01-02", device_time: "2030-01-02T10:00:00.000Z", patient_id: null,
    patient_name: null, patient_name_ar: null, payload: "{}",
  };
}

const REPORT: VerifyReport = { ok: true, records_checked: 2, devices: 1, first_bad: null, anchor: "", projections_ok: true, projection_problem: null };

/** The trail as the core keeps it: verifying adds a record. */
function auditCore() {
  const log = [entry(1, "branch.created"), entry(2, "auth.login")];
  return {
    audit_trail: (args: Record<string, unknown>): AuditPage => {
      const kind = (args.filter as AuditFilter).kind;
      const entries = log.filter((e) => !kind || (kind.endsWith(".") ? e.kind.startsWith(kind) : e.kind === kind));
      return { entries: [...entries].reverse(), total: entries.length };
    },
    verify_audit: () => {
      log.push(entry(log.length + 1, "audit.verified"));
      return REPORT;
    },
    list_users: () => [],
  };
}

const kinds = () => screen.getAllByTestId("audit-row").map((r) => r.getAttribute("data-kind"));

freshAppPerTest();

describe("audit screen", () => {
  it("reads the trail for each Apply, even an unchanged filter, and again after a verification", async () => {
    const core = startSignedIn(["audit_view", "audit_verify"], auditCore());
    await waitFor(() => expect(kinds()).toEqual(["auth.login", "branch.created"]));
    expect(core.count("audit_trail")).toBe(1);

    fireEvent.change(screen.getByTestId("audit-filter-kind"), { target: { value: "auth." } });
    fireEvent.click(screen.getByTestId("audit-apply"));
    await waitFor(() => expect(kinds()).toEqual(["auth.login"]));
    fireEvent.click(screen.getByTestId("audit-apply"));
    await waitFor(() => expect(core.count("audit_trail")).toBe(3));

    fireEvent.change(screen.getByTestId("audit-filter-kind"), { target: { value: "" } });
    fireEvent.click(screen.getByTestId("audit-apply"));
    await waitFor(() => expect(kinds()).toHaveLength(2));
    fireEvent.click(screen.getByTestId("audit-verify"));
    await waitFor(() => expect(screen.getByTestId("audit-verify-result").getAttribute("data-ok")).toBe("true"));
    // The verification's own record shows without another click.
    await waitFor(() => expect(kinds()[0]).toBe("audit.verified"));
  });
});
