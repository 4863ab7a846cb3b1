import { useState } from "react";
import { useWatch } from "react-hook-form";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type CoreError, type DayHours, type DoctorDetail, type Interval, type Leave, type Weekday } from "../../bindings";
import { useApp } from "../../context";
import { detailsOf, reasonText } from "../../errors";
import { useCommandForm } from "../../forms";
import { todayIso } from "../../format";
import { useLang } from "../../i18n/useLang";
import { run, useCommandQuery } from "../../query";
import { EmptyRow, ErrorMessage, Field, Ltr, Notice, type NoticeText, TableHead } from "../../components/common";
import { DoctorForm } from "./DoctorForm";
import { doctorKeys } from "./keys";
import { INTERVALS_MAX, WEEKDAYS, dayProblem, leaveSchema, toSpan, type LeaveValues } from "./schema";

/** A doctor's page: the profile, the weekly hours, the leave, and the availability on a date. */
export function DoctorPage({ doctorId, notice: first, onBack }: { doctorId: string; notice: NoticeText | null; onBack: () => void }) {
  const { t } = useLang("doctors");
  const { can } = useApp();
  const detail = useCommandQuery(doctorKeys.detail(doctorId), () => commands.doctorDetail(doctorId));
  const [notice, setNotice] = useState<NoticeText | null>(first);
  const d = detail.data;
  if (!d) return null;
  const editable = can("doctor_edit") && d.doctor.status === "active";
  return (
    <section className="page" data-testid="doctor-page">
      <div className="page-head">
        <h1>
          <bdi lang="en">{d.doctor.name_en}</bdi> · <bdi lang="ar">{d.doctor.name_ar}</bdi>
        </h1>
        <button type="button" className="btn" data-testid="doctor-back" onClick={onBack}>
          {t("doctors.back")}
        </button>
      </div>
      <Notice text={notice} testId="doctor-message" />
      <p className="muted">
        {t(`doctors.specialties.${d.doctor.specialty}`)} · <Ltr>{d.doctor.licence}</Ltr> · {t(`doctors.statuses.${d.doctor.status}`)}
      </p>
      {can("doctor_edit") ? <DoctorForm key={d.doctor.updated_at} doctor={d.doctor} onSaved={() => setNotice({ key: "doctors.updated" })} /> : null}
      <WeekEditor key={JSON.stringify(d.week)} detail={d} editable={editable} onSaved={() => setNotice({ key: "doctors.hours.saved" })} />
      <LeaveSection detail={d} editable={editable} onSaved={setNotice} />
      <Availability doctorId={doctorId} />
    </section>
  );
}

type Week = Record<Weekday, Interval[]>;

/** A time control as wide as its text (the app's inputs fill their field otherwise). */
const TIME_INPUT = { width: "auto", display: "inline-block" } as const;

function weekOf(days: DayHours[]): Week {
  const week = Object.fromEntries(WEEKDAYS.map((w) => [w, [] as Interval[]])) as Week;
  for (const d of days) week[d.day] = d.intervals.map((i) => ({ ...i }));
  return week;
}

/** The week as a whole: every day's intervals, saved together (one record). */
function WeekEditor({ detail, editable, onSaved }: { detail: DoctorDetail; editable: boolean; onSaved: () => void }) {
  const { t, lang } = useLang("doctors");
  const queryClient = useQueryClient();
  const [week, setWeek] = useState<Week>(() => weekOf(detail.week));
  const [problems, setProblems] = useState<Partial<Record<Weekday, string>>>({});
  const [error, setError] = useState<CoreError | null>(null);
  const id = detail.doctor.id;
  const save = useMutation<DayHours[], CoreError, DayHours[]>({
    mutationFn: (days) => run(() => commands.setDoctorHours(id, days)),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: doctorKeys.detail(id) });
      void queryClient.invalidateQueries({ queryKey: doctorKeys.availabilityOf(id) });
      onSaved();
    },
    onError: (e) => {
      // The core names the day at fault: show its reason there.
      const day = detailsOf(e).day as Weekday | undefined;
      const text = reasonText(t, e, lang);
      if (day && text) setProblems({ [day]: text });
      else setError(e);
    },
  });
  const set = (day: Weekday, intervals: Interval[]) => setWeek({ ...week, [day]: intervals });
  /** One end of interval `i` of `day`: its start or its end time. */
  const timeInput = (day: Weekday, i: number, iv: Interval, edge: "start" | "end") => (
    <input
      type="time"
      dir="ltr"
      style={TIME_INPUT}
      aria-label={t(edge === "start" ? "doctors.hours.from" : "doctors.hours.to")}
      data-testid={`week-${edge}`}
      value={iv[edge]}
      disabled={!editable}
      onChange={(e) => set(day, week[day].map((x, j) => (j === i ? { ...x, [edge]: e.target.value } : x)))}
    />
  );
  const submit = () => {
    setError(null);
    const found: Partial<Record<Weekday, string>> = {};
    for (const day of WEEKDAYS) {
      const p = dayProblem(week[day]);
      if (p) found[day] = t(`reasons.${p}`, { max: INTERVALS_MAX });
    }
    setProblems(found);
    if (Object.keys(found).length === 0) save.mutate(WEEKDAYS.filter((w) => week[w].length > 0).map((day) => ({ day, intervals: week[day] })));
  };
  return (
    <div className="card" data-testid="week-editor">
      <h2>{t("doctors.hours.title")}</h2>
      <ErrorMessage error={error} testId="week-error" />
      <table className="table">
        <tbody>
          {WEEKDAYS.map((day) => (
            <tr key={day} data-testid="week-day" data-day={day}>
              <th scope="row">{t(`doctors.weekdays.${day}`)}</th>
              <td>
                {week[day].length === 0 ? <span className="muted">{t("doctors.hours.none")}</span> : null}
                {week[day].map((iv, i) => (
                  <span key={i} className="interval nowrap">
                    {timeInput(day, i, iv, "start")}
                    –
                    {timeInput(day, i, iv, "end")}
                    {editable ? (
                      <button type="button" className="btn btn-small" onClick={() => set(day, week[day].filter((_, j) => j !== i))}>
                        {t("doctors.hours.remove")}
                      </button>
                    ) : null}{" "}
                  </span>
                ))}
                {problems[day] ? (
                  <div className="field-error" role="alert" data-testid="week-problem">
                    {problems[day]}
                  </div>
                ) : null}
              </td>
              <td>
                {editable && week[day].length < INTERVALS_MAX ? (
                  <button
                    type="button"
                    className="btn btn-small"
                    data-testid="week-add"
                    onClick={() => set(day, [...week[day], { start: "09:00", end: "13:00" }])}
                  >
                    {t("doctors.hours.addInterval")}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editable ? (
        <div className="form-actions">
          <button type="button" className="btn btn-primary" data-testid="week-save" disabled={save.isPending} onClick={submit}>
            {t("doctors.hours.save")}
          </button>
        </div>
      ) : null}
    </div>
  );
}

const LEAVE_COLUMNS = ["doctors.leave.kind", "doctors.leave.when", "doctors.leave.note", "doctors.status", "common.actions"] as const;

function LeaveWhen({ leave }: { leave: Leave }) {
  const { t } = useLang("doctors");
  const s = leave.span;
  if (s.type === "holiday") return <>{t("doctors.leave.range", { from: s.from, to: s.to })}</>;
  if (s.type === "late_start") return <>{t("doctors.leave.lateFrom", { date: s.date, time: s.starts_at })}</>;
  return <Ltr>{s.date}</Ltr>;
}

function LeaveSection({ detail, editable, onSaved }: { detail: DoctorDetail; editable: boolean; onSaved: (n: NoticeText) => void }) {
  const { t } = useLang("doctors");
  const { showError } = useApp();
  const queryClient = useQueryClient();
  const id = detail.doctor.id;
  const changed = (key: string) => {
    void queryClient.invalidateQueries({ queryKey: doctorKeys.detail(id) });
    void queryClient.invalidateQueries({ queryKey: doctorKeys.availabilityOf(id) });
    onSaved({ key });
  };
  const cancel = useMutation<Leave, CoreError, string>({
    mutationFn: (leaveId) => run(() => commands.cancelDoctorLeave(id, leaveId)),
    onSuccess: () => changed("doctors.leave.cancelledOk"),
    onError: (e) => showError(e),
  });
  return (
    <div className="card" data-testid="leave">
      <h2>{t("doctors.leave.title")}</h2>
      <table className="table" data-testid="leave-table">
        <TableHead columns={LEAVE_COLUMNS} />
        <tbody>
          {detail.leave.length === 0 ? <EmptyRow columns={LEAVE_COLUMNS} text={t("doctors.leave.empty")} /> : null}
          {detail.leave.map((l) => (
            <tr key={l.id} data-testid="leave-row" data-cancelled={l.cancelled_at ? "true" : "false"}>
              <td>{t(`doctors.leave.kinds.${l.span.type}`)}</td>
              <td className="nowrap">
                <LeaveWhen leave={l} />
              </td>
              <td>
                <bdi>{l.note}</bdi>
              </td>
              <td>{l.cancelled_at ? <span className="pill pill-off">{t("doctors.leave.cancelled")}</span> : null}</td>
              <td>
                {editable && !l.cancelled_at ? (
                  <button type="button" className="btn btn-small btn-danger" data-testid="leave-cancel" disabled={cancel.isPending} onClick={() => cancel.mutate(l.id)}>
                    {t("doctors.leave.cancel")}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editable ? <LeaveForm doctorId={id} onAdded={() => changed("doctors.leave.added")} /> : null}
    </div>
  );
}

const LEAVE_FIELDS: readonly (keyof LeaveValues)[] = ["date", "from", "to", "starts_at", "note"];

function LeaveForm({ doctorId, onAdded }: { doctorId: string; onAdded: () => void }) {
  const { t } = useLang("doctors");
  const empty: LeaveValues = { type: "day_off", date: todayIso(), from: todayIso(), to: todayIso(), starts_at: "10:00", note: "" };
  const { form, error, busy, message, onSubmit } = useCommandForm<LeaveValues, Leave>({
    schema: leaveSchema,
    defaultValues: empty,
    send: (v) => commands.addDoctorLeave(doctorId, { span: toSpan(v), note: v.note }),
    onDone: () => {
      form.reset(empty);
      onAdded();
    },
    fields: LEAVE_FIELDS,
  });
  const { register, control } = form;
  const type = useWatch({ control, name: "type" });
  const dateField = (name: "date" | "from" | "to") => (
    <Field id={`lf-${name}`} label={t(`fields.${name}`)} error={message(name)} errorTestId={`lf-error-${name}`}>
      <input id={`lf-${name}`} data-testid={`lf-${name}`} type="date" dir="ltr" {...register(name)} />
    </Field>
  );
  return (
    <form className="inline-form" onSubmit={onSubmit} noValidate data-testid="leave-form">
      <h3>{t("doctors.leave.add")}</h3>
      <ErrorMessage error={error} testId="lf-error" />
      <div className="form-grid">
        <Field id="lf-type" label={t("doctors.leave.kind")}>
          <select id="lf-type" data-testid="lf-type" {...register("type")}>
            {(["day_off", "holiday", "late_start"] as const).map((k) => (
              <option key={k} value={k}>
                {t(`doctors.leave.kinds.${k}`)}
              </option>
            ))}
          </select>
        </Field>
        {type === "holiday" ? (
          <>
            {dateField("from")}
            {dateField("to")}
          </>
        ) : (
          dateField("date")
        )}
        {type === "late_start" ? (
          <Field id="lf-starts_at" label={t("fields.starts_at")} error={message("starts_at")} errorTestId="lf-error-starts_at">
            <input id="lf-starts_at" data-testid="lf-starts_at" type="time" dir="ltr" {...register("starts_at")} />
          </Field>
        ) : null}
        <Field id="lf-note" label={t("fields.note")} error={message("note")} errorTestId="lf-error-note" optional wide>
          <input id="lf-note" data-testid="lf-note" {...register("note")} />
        </Field>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary btn-small" data-testid="lf-submit" disabled={busy}>
          {t("doctors.leave.add")}
        </button>
      </div>
    </form>
  );
}

/** The working intervals on a date, after leave (what the appointment book will offer). */
function Availability({ doctorId }: { doctorId: string }) {
  const { t } = useLang("doctors");
  const [date, setDate] = useState(todayIso());
  const q = useCommandQuery(doctorKeys.availability(doctorId, date), () => commands.doctorAvailability(doctorId, date), {
    enabled: /^\d{4}-\d{2}-\d{2}$/.test(date),
  });
  return (
    <div className="card" data-testid="availability">
      <h2>{t("doctors.availability.title")}</h2>
      <Field id="av-date" label={t("doctors.availability.date")}>
        <input id="av-date" data-testid="av-date" type="date" dir="ltr" value={date} onChange={(e) => setDate(e.target.value)} />
      </Field>
      {q.data ? (
        <p data-testid="av-intervals">
          {q.data.intervals.length === 0
            ? t("doctors.availability.off")
            : q.data.intervals.map((i) => (
                <span key={i.start} className="pill">
                  <Ltr>
                    {i.start}–{i.end}
                  </Ltr>
                </span>
              ))}
        </p>
      ) : null}
    </div>
  );
}
