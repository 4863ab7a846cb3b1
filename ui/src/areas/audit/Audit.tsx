import { useEffect, useState, type FormEvent } from "react";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type CoreError, type DocumentRef, type AuditFilter, type BadRecord, type VerifyReport } from "../../bindings";
import { call } from "../../api";
import { run, useCommandQuery } from "../../query";
import { auditKeys } from "./keys";
import { userKeys } from "../users/schema";
import { patientKeys } from "../patients/keys";
import { KIND_GROUPS, KNOWN_KINDS, VERIFY_REASONS, summarizePayload } from "../../auditFormat";
import { useApp } from "../../context";
import { kindLabel } from "../../errors";
import { formatDateTime } from "../../format";
import { useLang } from "../../i18n/useLang";
import { EmptyRow, Field, TableHead } from "../../components/common";

const AUDIT_COLUMNS = [
  "audit.time",
  "audit.user",
  "audit.role",
  "audit.event",
  "audit.patient",
  "audit.details",
] as const;

const PAGE_SIZE = 50;

type Draft = { userId: string; patient: { id: string; label: string } | null; patientText: string; kind: string; dateFrom: string; dateTo: string };
const EMPTY_DRAFT: Draft = { userId: "", patient: null, patientText: "", kind: "", dateFrom: "", dateTo: "" };

const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

/** `patientTextIsId`: without patient search the patient field takes a raw patient ID. */
function toFilter(d: Draft, offset: number, patientTextIsId = false): AuditFilter {
  return {
    user_id: orNull(d.userId),
    patient_id: d.patient ? d.patient.id : patientTextIsId ? orNull(d.patientText) : null,
    kind: orNull(d.kind),
    date_from: orNull(d.dateFrom),
    date_to: orNull(d.dateTo),
    limit: PAGE_SIZE,
    offset,
  };
}

export function AuditScreen() {
  const { t, lang } = useLang("audit");
  const { can, showError } = useApp();
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [filter, setFilter] = useState<AuditFilter>(() => toFilter(EMPTY_DRAFT, 0));
  const canListUsers = can("user_list");
  const canSearchPatients = can("patient_search");
  const queryClient = useQueryClient();
  // The trail is read afresh each time the screen opens (gcTime 0: no stale page is shown
  // first); while another page or filter loads, the last page stays.
  const trail = useCommandQuery(auditKeys.trail(filter), () => commands.auditTrail(filter), {
    gcTime: 0,
    placeholderData: keepPreviousData,
  });
  const page = trail.data ?? null;
  // Only to offer names in the user filter: without it the filter takes a user id.
  const users = useQuery({ queryKey: userKeys.all, queryFn: () => run(() => commands.listUsers()), enabled: canListUsers }).data ?? null;

  /** Verifying and printing write a record: the trail is read again to show it. */
  const onRecorded = () => void queryClient.invalidateQueries({ queryKey: auditKeys.all });
  const verify = useMutation<VerifyReport, CoreError>({
    mutationFn: () => run(() => commands.verifyAudit()),
    onSuccess: onRecorded,
    onError: showError,
  });
  /** Verifies and prints the report (PDF, the user's language), then saves a copy. */
  const print = useMutation<DocumentRef, CoreError>({
    mutationFn: () => run(() => commands.auditReport()),
    onSuccess: (doc) => {
      onRecorded();
      void saveDocument(doc);
    },
    onError: showError,
  });
  const verifying = verify.isPending || print.isPending;
  const report = verify.data ?? null;
  const printed = print.data ?? null;

  const apply = (e: FormEvent) => {
    e.preventDefault();
    showError(null);
    setOrRefetch(toFilter(draft, 0, !canSearchPatients));
  };
  const reset = () => {
    setDraft(EMPTY_DRAFT);
    setOrRefetch(toFilter(EMPTY_DRAFT, 0));
  };
  /** "Apply" always reads the trail again, even when the filter did not change. */
  const setOrRefetch = (next: AuditFilter) => {
    if (JSON.stringify(next) === JSON.stringify(filter)) void trail.refetch();
    else setFilter(next);
  };
  const goToOffset = (offset: number) => setFilter((f) => ({ ...f, offset }));

  async function saveDocument(doc: DocumentRef) {
    // The outbox stores the document just after the command returns: give it a moment.
    let r = await call(() => commands.readDocument(doc.document_id));
    for (let i = 0; i < 5 && r.status === "error" && r.error.code === "not_found"; i++) {
      await new Promise((done) => setTimeout(done, 200));
      r = await call(() => commands.readDocument(doc.document_id));
    }
    if (r.status !== "ok") return showError(r.error);
    const bytes = Uint8Array.from(atob(r.data.content_base64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: r.data.media_type }));
    const link = Object.assign(document.createElement("a"), { href: url, download: r.data.file_name });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  const total = page?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const pageNo = Math.floor(filter.offset / PAGE_SIZE) + 1;

  return (
    <section className="page">
      <div className="page-head">
        <h1>{t("audit.title")}</h1>
        {can("audit_verify") ? (
          <button type="button" className="btn btn-primary" data-testid="audit-verify" onClick={() => { print.reset(); verify.mutate(); }} disabled={verifying}>
            {verifying ? t("audit.verifying") : t("audit.verify")}
          </button>
        ) : null}
        {can("audit_verify") ? (
          <button type="button" className="btn" data-testid="audit-report" onClick={() => { verify.reset(); print.mutate(); }} disabled={verifying}>
            {t("audit.report")}
          </button>
        ) : null}
      </div>
      {printed ? (
        <div className="message message-success" role="status" data-testid="audit-report-ready">
          {t("audit.reportReady", { name: printed.file_name })}{" "}
          <button type="button" className="btn btn-link" onClick={() => void saveDocument(printed)}>
            {t("audit.reportSave")}
          </button>
        </div>
      ) : null}
      {report ? <VerifyResult report={report} /> : null}

      <form className="card filters" onSubmit={apply} data-testid="audit-filters">
        <h2 className="visually-hidden">{t("audit.filters")}</h2>
        <div className="form-grid form-grid-filters">
          <Field id="audit-filter-user" label={t("audit.user")}>
            {users ? (
              <select
                id="audit-filter-user"
                data-testid="audit-filter-user"
                value={draft.userId}
                onChange={(e) => setDraft({ ...draft, userId: e.target.value })}
              >
                <option value="">{t("audit.anyUser")}</option>
                {users.map((u) => (
                  <option key={u.id} value={u.id} data-username={u.username}>
                    {u.display_name} ({u.username})
                  </option>
                ))}
              </select>
            ) : (
              <input
                id="audit-filter-user"
                data-testid="audit-filter-user"
                dir="ltr"
                placeholder={t("audit.userIdPlaceholder")}
                value={draft.userId}
                onChange={(e) => setDraft({ ...draft, userId: e.target.value })}
              />
            )}
          </Field>
          <Field id="audit-filter-patient" label={t("audit.patient")}>
            <PatientPicker
              canSearch={canSearchPatients}
              draft={draft}
              onChange={(patch) => setDraft((d) => ({ ...d, ...patch }))}
            />
          </Field>
          <Field id="audit-filter-kind" label={t("audit.kind")}>
            <input
              id="audit-filter-kind"
              data-testid="audit-filter-kind"
              dir="ltr"
              list="audit-kind-options"
              autoComplete="off"
              placeholder={t("audit.kindPlaceholder")}
              value={draft.kind}
              onChange={(e) => setDraft({ ...draft, kind: e.target.value })}
            />
            <datalist id="audit-kind-options">
              {KIND_GROUPS.map((g) => (
                <option key={g} value={`${g}.`} label={t(`audit.group.${g}`)} />
              ))}
              {KNOWN_KINDS.map((k) => (
                <option key={k} value={k} label={kindLabel(t, k)} />
              ))}
            </datalist>
          </Field>
          <Field id="audit-filter-from" label={t("audit.dateFrom")}>
            <input
              id="audit-filter-from"
              data-testid="audit-filter-from"
              type="date"
              dir="ltr"
              value={draft.dateFrom}
              onChange={(e) => setDraft({ ...draft, dateFrom: e.target.value })}
            />
          </Field>
          <Field id="audit-filter-to" label={t("audit.dateTo")}>
            <input
              id="audit-filter-to"
              data-testid="audit-filter-to"
              type="date"
              dir="ltr"
              value={draft.dateTo}
              onChange={(e) => setDraft({ ...draft, dateTo: e.target.value })}
            />
          </Field>
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" data-testid="audit-apply">
            {t("audit.apply")}
          </button>
          <button type="button" className="btn" data-testid="audit-reset" onClick={reset}>
            {t("audit.reset")}
          </button>
        </div>
      </form>

      <div className="card table-card">
        <table className="table table-dense" data-testid="audit-table" data-total={total}>
          <TableHead columns={AUDIT_COLUMNS} />
          <tbody>
            {page && page.entries.length === 0 ? (
              <EmptyRow columns={AUDIT_COLUMNS} text={t("audit.empty")} testId="audit-empty" />
            ) : null}
            {(page?.entries ?? []).map((e) => (
              <tr
                key={e.record_id}
                data-testid="audit-row"
                data-kind={e.kind}
                data-seq={e.seq}
                data-device-id={e.device_id}
                className={e.kind === "access.denied" || e.kind === "auth.login_failed" ? "row-warn" : undefined}
              >
                <td className="nowrap" title={`${t("audit.businessDate")}: ${e.business_date}`}>
                  {formatDateTime(e.device_time, lang)}
                </td>
                <td>
                  <bdi>{e.actor_name ?? t("common.none")}</bdi>
                </td>
                <td>{e.actor_role ? t(`roles.${e.actor_role}`, { defaultValue: e.actor_role }) : t("common.none")}</td>
                <td>
                  <span title={e.kind}>{kindLabel(t, e.kind)}</span>
                </td>
                <td>
                  <bdi>{(lang === "ar" ? e.patient_name_ar : e.patient_name) ?? ""}</bdi>
                </td>
                <td className="details-cell" title={e.payload}>
                  <bdi>{summarizePayload(e.payload)}</bdi>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div className="pager">
          <span className="muted" data-testid="audit-total">
            {t("common.totalRecords", { n: total })}
          </span>
          <span className="pager-controls">
            <button
              type="button"
              className="btn btn-small"
              data-testid="audit-prev"
              disabled={filter.offset === 0}
              onClick={() => goToOffset(Math.max(0, filter.offset - PAGE_SIZE))}
            >
              {t("common.previous")}
            </button>
            <span data-testid="audit-page">{t("common.pageOf", { page: pageNo, pages })}</span>
            <button
              type="button"
              className="btn btn-small"
              data-testid="audit-next"
              disabled={filter.offset + PAGE_SIZE >= total}
              onClick={() => goToOffset(filter.offset + PAGE_SIZE)}
            >
              {t("common.next")}
            </button>
          </span>
        </div>
      </div>
    </section>
  );
}

/** Wraps text from the core (English, ids) in a first-strong isolate, so it keeps its order in Arabic. */
const isolate = (s: string) => `\u2068${s}\u2069`;

/** The problem in the reader's language, the core's English particulars kept beside it. */
function problemText(t: (key: string) => string, bad: BadRecord): string {
  const known = VERIFY_REASONS.includes(bad.reason);
  return known ? `${t(`audit.problems.${bad.reason}`)} (${isolate(bad.problem)})` : isolate(bad.problem);
}

function VerifyResult({ report }: { report: VerifyReport }) {
  const { t } = useLang("audit");
  const bad = report.first_bad;
  const ok = report.ok && report.projections_ok;
  const storage = report.storage_problems ?? [];
  return (
    <div
      className={ok ? "message message-success verify-result" : "message message-error verify-result"}
      role={ok ? "status" : "alert"}
      data-testid="audit-verify-result"
      data-ok={ok ? "true" : "false"}
    >
      {report.ok || (!bad && report.projections_ok) ? (
        <div className="verify-line">✔ {t("audit.chainOk", { n: report.records_checked })}</div>
      ) : bad && bad.seq !== null ? (
        <div className="verify-line">
          ✖ {t("audit.chainBad", { seq: bad.seq, device: isolate(bad.device_id ?? "?"), problem: problemText(t, bad) })}
        </div>
      ) : (
        <div className="verify-line">✖ {t("audit.chainBadNoSeq", { problem: bad ? problemText(t, bad) : "" })}</div>
      )}
      {!report.projections_ok ? (
        <div className="verify-line">✖ {t("audit.projectionsBad", { problem: isolate(report.projection_problem ?? "") })}</div>
      ) : null}
      {storage.length > 0 ? (
        <div className="verify-line" data-testid="audit-storage-problems">
          ✖ {t("audit.storageBad", { problem: isolate(storage.join("; ")) })}
        </div>
      ) : null}
      <div className="small" title={report.anchor}>
        {t("audit.chainOkDevices", { n: report.devices })}
      </div>
    </div>
  );
}

const PICKER_DEBOUNCE_MS = 150;
const PICKER_LIMIT = 8;

/** Patient filter: search-as-you-type when allowed, else a plain patient-ID field. */
function PatientPicker({
  canSearch,
  draft,
  onChange,
}: {
  canSearch: boolean;
  draft: Draft;
  onChange: (patch: Partial<Draft>) => void;
}) {
  const { t } = useLang("audit");
  const q = draft.patientText.trim();
  // Asked once typing pauses; the results are cached with the patient searches (a new
  // registration invalidates them).
  const [asked, setAsked] = useState(q);
  useEffect(() => {
    const timer = window.setTimeout(() => setAsked(q), PICKER_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [q]);
  const options = useQuery({
    queryKey: [...patientKeys.search(asked), PICKER_LIMIT],
    queryFn: () => run(() => commands.searchPatients(asked, PICKER_LIMIT)),
    enabled: canSearch && asked !== "" && !draft.patient,
  });

  if (draft.patient) {
    return (
      <div className="chip" data-testid="audit-patient-selected" data-patient-id={draft.patient.id}>
        <bdi>{draft.patient.label}</bdi>
        <button
          type="button"
          className="chip-clear"
          data-testid="audit-patient-clear"
          aria-label={t("audit.clearPatient")}
          onClick={() => onChange({ patient: null, patientText: "" })}
        >
          ×
        </button>
      </div>
    );
  }

  const shown = canSearch && q && asked === q ? (options.data ?? []) : [];
  return (
    <div className="picker">
      <input
        id="audit-filter-patient"
        data-testid="audit-filter-patient"
        autoComplete="off"
        dir={canSearch ? undefined : "ltr"}
        placeholder={canSearch ? t("audit.patientSearchPlaceholder") : t("audit.patientIdPlaceholder")}
        value={draft.patientText}
        onChange={(e) => onChange({ patientText: e.target.value })}
      />
      {shown.length > 0 ? (
        <ul className="picker-options" role="listbox">
          {shown.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                data-testid="audit-patient-option"
                data-file-number={p.file_number}
                onClick={() => onChange({ patient: { id: p.id, label: `${p.name_en || p.name_ar} · ${p.file_number}` }, patientText: "" })}
              >
                <bdi>{p.name_en || p.name_ar}</bdi> <span className="muted">{p.file_number}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
