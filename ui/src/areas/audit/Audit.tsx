import { useEffect, useState, type ReactElement } from "react";
import { useForm, type UseFormReturn } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type CoreError, type DocumentRef, type AuditFilter, type BadRecord, type UserSummary, type VerifyReport } from "../../bindings";
import { call } from "../../api";
import { run, useCommandQuery } from "../../query";
import { auditKeys } from "./keys";
import { EMPTY_FILTERS, filterSchema, type FilterValues } from "./schema";
import { useErrorText } from "../../forms";
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

const orNull = (s: string) => (s.trim() === "" ? null : s.trim());

/** `patientTextIsId`: without patient search the patient field takes a raw patient ID. */
function toFilter(d: FilterValues, offset: number, patientTextIsId = false): AuditFilter {
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
  const [filter, setFilter] = useState<AuditFilter>(() => toFilter(EMPTY_FILTERS, 0));
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

  const apply = (values: FilterValues) => {
    showError(null);
    setOrRefetch(toFilter(values, 0, !canSearchPatients));
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

      <AuditFilters users={users} canSearchPatients={canSearchPatients} onApply={apply} />

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
                  <bdi>{summarizePayload(e.payload, 240, (k, v) => (k === "action" ? t(`actions.${v}`, { defaultValue: v }) : undefined))}</bdi>
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
function PatientPicker({ canSearch, form }: { canSearch: boolean; form: UseFormReturn<FilterValues> }) {
  const { t } = useLang("audit");
  const picked = form.watch("patient");
  const q = form.watch("patientText").trim();
  const pick = (patient: FilterValues["patient"]) => {
    form.setValue("patient", patient);
    form.setValue("patientText", "");
  };
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
    enabled: canSearch && asked !== "" && !picked,
  });

  if (picked) {
    return (
      <div className="chip" data-testid="audit-patient-selected" data-patient-id={picked.id}>
        <bdi>{picked.label}</bdi>
        <button
          type="button"
          className="chip-clear"
          data-testid="audit-patient-clear"
          aria-label={t("audit.clearPatient")}
          onClick={() => pick(null)}
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
        {...form.register("patientText")}
      />
      {shown.length > 0 ? (
        <ul className="picker-options" role="listbox">
          {shown.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                data-testid="audit-patient-option"
                data-file-number={p.file_number}
                onClick={() => pick({ id: p.id, label: `${p.name_en || p.name_ar} · ${p.file_number}` })}
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

/** The filters: applied (checked by the schema) with "Apply", cleared with "Reset". */
function AuditFilters({
  users,
  canSearchPatients,
  onApply,
}: {
  users: UserSummary[] | null;
  canSearchPatients: boolean;
  onApply: (values: FilterValues) => void;
}) {
  const { t } = useLang("audit");
  const form = useForm<FilterValues>({ defaultValues: EMPTY_FILTERS, resolver: zodResolver(filterSchema), reValidateMode: "onChange" });
  const { register } = form;
  const message = useErrorText(form);
  /** A labelled filter control, its id and test id `audit-filter-<name>`. */
  const filter = (name: string, label: string, control: ReactElement<{ id: string }>, error: string | null = null) => (
    <Field id={`audit-filter-${name}`} label={label} error={error} errorTestId={`audit-filter-error-${name}`}>
      {control}
    </Field>
  );
  const tid = (name: string) => ({ id: `audit-filter-${name}`, "data-testid": `audit-filter-${name}` });
  const reset = () => {
    form.reset(EMPTY_FILTERS);
    onApply(EMPTY_FILTERS);
  };

  return (
    <form className="card filters" onSubmit={(e) => void form.handleSubmit(onApply)(e)} noValidate data-testid="audit-filters">
      <h2 className="visually-hidden">{t("audit.filters")}</h2>
      <div className="form-grid form-grid-filters">
        {filter(
          "user",
          t("audit.user"),
          users ? (
            <select {...tid("user")} {...register("userId")}>
              <option value="">{t("audit.anyUser")}</option>
              {users.map((u) => (
                <option key={u.id} value={u.id} data-username={u.username}>
                  {u.display_name} ({u.username})
                </option>
              ))}
            </select>
          ) : (
            <input {...tid("user")} dir="ltr" placeholder={t("audit.userIdPlaceholder")} {...register("userId")} />
          ),
        )}
        {filter("patient", t("audit.patient"), <PatientPicker canSearch={canSearchPatients} form={form} />)}
        {filter(
          "kind",
          t("audit.kind"),
          <>
            <input {...tid("kind")} dir="ltr" list="audit-kind-options" autoComplete="off" placeholder={t("audit.kindPlaceholder")} {...register("kind")} />
            <datalist id="audit-kind-options">
              {KIND_GROUPS.map((g) => (
                <option key={g} value={`${g}.`} label={t(`audit.group.${g}`)} />
              ))}
              {KNOWN_KINDS.map((k) => (
                <option key={k} value={k} label={kindLabel(t, k)} />
              ))}
            </datalist>
          </>,
        )}
        {filter("from", t("audit.dateFrom"), <input {...tid("from")} type="date" dir="ltr" {...register("dateFrom")} />, message("dateFrom"))}
        {filter("to", t("audit.dateTo"), <input {...tid("to")} type="date" dir="ltr" {...register("dateTo")} />, message("dateTo"))}
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
  );
}
