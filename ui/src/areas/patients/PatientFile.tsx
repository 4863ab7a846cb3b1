import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import {
  commands,
  type CoreError,
  type EditConflict,
  type PatientChange,
  type PatientFile as PatientFileData,
  type PatientInput,
} from "../../bindings";
import { useApp } from "../../context";
import { fieldLabel } from "../../errors";
import { ageInYears, formatDateTime } from "../../format";
import { useLang } from "../../i18n/useLang";
import { useCommandQuery, run } from "../../query";
import { Ltr, Notice, type NoticeText } from "../../components/common";
import { patientKeys } from "./keys";

type Shown = { name: keyof PatientInput; ltr?: boolean; multiline?: boolean };

const PERSONAL: Shown[] = [
  { name: "name_en" },
  { name: "name_ar" },
  { name: "date_of_birth", ltr: true },
  { name: "sex" },
  { name: "national_id", ltr: true },
  { name: "phone", ltr: true },
  { name: "emergency_contact" },
  { name: "address" },
];
const MEDICAL: Shown[] = [
  { name: "allergies", multiline: true },
  { name: "chronic_diseases", multiline: true },
  { name: "current_medications", multiline: true },
  { name: "medical_history", multiline: true },
];

/** One patient's file: all fields, an Edit button, and who did what to it. */
export function PatientFileView({
  patientId,
  notice,
  onBack,
  onEdit,
}: {
  patientId: string;
  notice: NoticeText | null;
  onBack: () => void;
  onEdit: (file: PatientFileData) => void;
}) {
  const { t, lang } = useLang("patients");
  const { can } = useApp();
  // Opening a file is an audited act: read once per opening (gcTime 0: nothing is kept to
  // show stale, and nothing re-reads it behind the reader's back).
  const { data: file } = useCommandQuery(patientKeys.file(patientId), () => commands.openPatient(patientId), { gcTime: 0 });

  const back = (
    <button type="button" className="btn btn-ghost" data-testid="patient-back" onClick={onBack}>
      {lang === "ar" ? "→" : "←"} {t("patientFile.backToSearch")}
    </button>
  );

  if (!file) {
    return (
      <section className="page">
        <div className="page-head">{back}</div>
        <p className="muted">{t("app.loading")}</p>
      </section>
    );
  }

  const p = file.patient;
  // The name in the reader's script first, the other one beside it.
  const [primaryName, altName] = lang === "ar" && p.name_ar ? [p.name_ar, p.name_en] : [p.name_en || p.name_ar, p.name_en ? p.name_ar : ""];
  const age = ageInYears(p.date_of_birth);
  const value = (f: Shown) => {
    const raw = p[f.name];
    if (raw === null || raw === "") return <span className="muted">{t("common.none")}</span>;
    if (f.name === "sex") return t(`sex.${raw}`);
    if (f.ltr) return <Ltr>{raw}</Ltr>;
    return <bdi>{raw}</bdi>;
  };
  const list = (fields: Shown[]) => (
    <dl className="details">
      {fields.map((f) => (
        <div key={f.name} className={f.multiline ? "detail detail-wide" : "detail"}>
          <dt>{fieldLabel(t, f.name)}</dt>
          <dd data-testid={`patient-field-${f.name}`} className={f.multiline ? "multiline" : undefined}>
            {value(f)}
          </dd>
        </div>
      ))}
    </dl>
  );

  return (
    <section className="page" data-testid="patient-file" data-patient-id={p.id}>
      <div className="page-head">{back}</div>
      <Notice text={notice} testId="patient-notice" />
      <div className="card patient-header">
        <div>
          <h1 className="patient-name">
            <bdi>{primaryName}</bdi>
            {altName ? (
              <span className="patient-name-alt">
                {" "}
                <bdi>{altName}</bdi>
              </span>
            ) : null}
          </h1>
          <div className="patient-meta">
            <span>
              {t("patientFile.fileNumber")}:{" "}
              <strong data-testid="patient-file-number">
                <Ltr>{p.file_number}</Ltr>
              </strong>
            </span>
            {age !== null ? <span>{t("patientFile.age", { years: age })}</span> : null}
            <span>{t(`sex.${p.sex}`)}</span>
          </div>
        </div>
        {can("patient_edit") ? (
          <button type="button" className="btn btn-primary" data-testid="patient-edit" onClick={() => onEdit(file)}>
            {t("patientFile.edit")}
          </button>
        ) : null}
      </div>
      <div className="card">
        <h2>{t("patientFile.personal")}</h2>
        {list(PERSONAL)}
      </div>
      <div className="card">
        <h2>{t("patientFile.medical")}</h2>
        {list(MEDICAL)}
      </div>
      <Conflicts
        patientId={p.id}
        conflicts={file.conflicts.filter((c) => !c.resolution)}
        canResolve={can("patient_edit")}
      />
      <div className="card">
        <h2>{t("patientFile.history")}</h2>
        <div className="muted small">
          {t("patientFile.registeredAt")}: {formatDateTime(p.registered_at, lang)} · {t("patientFile.updatedAt")}:{" "}
          {formatDateTime(p.updated_at, lang)}
        </div>
        <History history={file.history} />
        {file.earlier_history ? (
          <p className="muted small" data-testid="history-earlier">
            {t("patientFile.historyEarlier", { count: file.history.length })}
          </p>
        ) : null}
      </div>
    </section>
  );
}

/** How a field's value reads in the file's history and conflicts. */
function useShownValue() {
  const { t } = useLang("patients");
  return (field: string, v: string) => {
    if (v === "") return t("patientFile.emptyValue");
    if (field === "sex" && (v === "male" || v === "female")) return t(`sex.${v}`);
    // First-strong isolate: a phone number or Latin text keeps its own order inside Arabic.
    return `\u2068${v}\u2069`;
  };
}

/** Refusals that mean the conflict is no longer there to decide. */
const SETTLED_REASONS = ["conflict_already_resolved", "conflict_not_found"];

/**
 * Edits made offline at another desk that lost to an edit which reached the branch server first,
 * still open. Staff who may edit the file decide each one: use the other desk's value (after a
 * confirmation) or keep the current one. A decided conflict leaves the card; the decision shows
 * in the file's history.
 */
function Conflicts({
  patientId,
  conflicts,
  canResolve,
}: {
  patientId: string;
  conflicts: EditConflict[];
  canResolve: boolean;
}) {
  const { t, lang } = useLang("patients");
  const { showError } = useApp();
  const shownValue = useShownValue();
  // The row waiting for "Use this value" to be confirmed, and the row being sent.
  const [confirming, setConfirming] = useState<string | null>(null);
  const queryClient = useQueryClient();
  // Rows the workstation said were decided elsewhere (or are gone) since the file was read:
  // nothing is left to decide on them, so they leave the card while the error says why.
  const [settled, setSettled] = useState<ReadonlySet<string>>(new Set());
  const keyOf = (c: EditConflict) => `${c.record_id}-${c.field}`;

  // The answer is the file as it now stands: it replaces the cached one (no second reading),
  // and searches may now find other values.
  const mutation = useMutation<PatientFileData, CoreError, { c: EditConflict; apply: boolean }>({
    mutationFn: ({ c, apply }) => run(() => commands.resolvePatientConflict(patientId, c.record_id, c.field, apply)),
    onSettled: () => setConfirming(null),
    onSuccess: (file) => {
      showError(null);
      queryClient.setQueryData(patientKeys.file(patientId), file);
      void queryClient.invalidateQueries({ queryKey: patientKeys.searches });
    },
    onError: (error, { c }) => {
      showError(error);
      if (SETTLED_REASONS.includes(error.details.reason ?? "")) setSettled((s) => new Set(s).add(keyOf(c)));
    },
  });
  const busy = mutation.isPending;
  const resolve = (c: EditConflict, apply: boolean) => mutation.mutate({ c, apply });
  const open = conflicts.filter((c) => !settled.has(keyOf(c)));
  /** A decision's button: none can be pressed while a decision is being sent. */
  const action = (testId: string, label: string, onClick: () => void, className = "btn btn-small") => (
    <button type="button" className={className} data-testid={testId} disabled={busy} onClick={onClick}>
      {label}
    </button>
  );
  if (open.length === 0) return null;

  return (
    <div className="card conflicts-card" data-testid="patient-conflicts">
      <h2>{t("patientFile.conflicts")}</h2>
      <p className="muted small">{t("patientFile.conflictsHelp")}</p>
      {canResolve ? <p className="muted small">{t("patientFile.conflictsActHelp")}</p> : null}
      <table className="table">
        <thead>
          <tr>
            <th>{t("patientFile.when")}</th>
            <th>{t("patientFile.conflictField")}</th>
            <th>{t("patientFile.conflictProposed")}</th>
            <th>{t("patientFile.conflictKept")}</th>
            {canResolve ? <th>{t("common.actions")}</th> : null}
          </tr>
        </thead>
        <tbody>
          {open.map((c) => (
            <tr key={keyOf(c)} data-testid="conflict-row" data-field={c.field} data-record-id={c.record_id}>
              <td className="nowrap">{formatDateTime(c.at, lang)}</td>
              <td>{fieldLabel(t, c.field)}</td>
              <td>{shownValue(c.field, c.proposed)}</td>
              <td>{shownValue(c.field, c.kept)}</td>
              {canResolve ? (
                <td>
                  {confirming === keyOf(c) ? (
                    <div data-testid="conflict-confirm-box">
                      <div className="small">
                        {t("patientFile.conflictConfirm", {
                          field: fieldLabel(t, c.field),
                          kept: shownValue(c.field, c.kept),
                          proposed: shownValue(c.field, c.proposed),
                        })}
                      </div>
                      <div className="row-actions">
                        {action("conflict-confirm", t("patientFile.conflictConfirmYes"), () => resolve(c, true), "btn btn-small btn-primary")}
                        {action("conflict-cancel", t("common.cancel"), () => setConfirming(null))}
                      </div>
                    </div>
                  ) : (
                    <div className="row-actions">
                      {action("conflict-apply", t("patientFile.conflictApply"), () => setConfirming(keyOf(c)))}
                      {action("conflict-keep", t("patientFile.conflictKeep"), () => resolve(c, false))}
                    </div>
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function History({ history }: { history: PatientChange[] }) {
  const { t, lang } = useLang("patients");
  const shownValue = useShownValue();
  if (history.length === 0) {
    return (
      <p className="muted" data-testid="patient-history">
        {t("patientFile.historyEmpty")}
      </p>
    );
  }
  const what = (h: PatientChange) => {
    switch (h.kind) {
      case "patient.registered":
        return t("patientFile.registeredEvent");
      case "patient.updated":
        return t("patientFile.updatedEvent");
      case "patient.viewed":
        return t("patientFile.viewedEvent");
      case "patient.conflict_resolved":
        return t("patientFile.conflictResolvedEvent");
      default:
        return t(`kinds.${h.kind.replace(/\./g, "_")}`, { defaultValue: h.kind });
    }
  };
  // Newest first: the latest activity is what the reader looks for.
  const rows = [...history].reverse();
  return (
    <table className="table" data-testid="patient-history">
      <thead>
        <tr>
          <th>{t("patientFile.when")}</th>
          <th>{t("patientFile.who")}</th>
          <th>{t("patientFile.what")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((h, i) => (
          <tr key={`${h.at}-${i}`} data-testid="history-row" data-kind={h.kind}>
            <td className="nowrap">{formatDateTime(h.at, lang)}</td>
            <td>
              <bdi>{h.by_name ?? t("patientFile.unknownUser")}</bdi>
            </td>
            <td>
              <div className={`kind-label kind-${h.kind.split(".")[1] ?? "other"}`}>{what(h)}</div>
              {h.kind === "patient.updated" ? (
                h.changes.length === 0 ? (
                  <div className="muted small">{t("patientFile.noChanges")}</div>
                ) : (
                  <ul className="changes">
                    {h.changes.map((c) => (
                      <li key={c.field} data-testid="history-change" data-field={c.field}>
                        {t("patientFile.changeLine", {
                          field: fieldLabel(t, c.field),
                          from: shownValue(c.field, c.from),
                          to: shownValue(c.field, c.to),
                        })}
                      </li>
                    ))}
                  </ul>
                )
              ) : null}
              {h.resolved ? (
                <div className="small" data-testid="history-resolution" data-outcome={h.resolved.outcome}>
                  {t(h.resolved.outcome === "applied" ? "patientFile.conflictApplied" : "patientFile.conflictDismissed", {
                    field: fieldLabel(t, h.resolved.field),
                  })}
                </div>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
